"""Realistic, repeatable demo data: one city's 95598 centre on an ordinary working day.

Everything is created through get_or_create on fixed keys, and the orders through the
same services the pages use, so running it twice changes nothing and the timelines, timers
and numbers look exactly like real ones.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.models import Group, User
from django.db import transaction
from django.utils import timezone

from customers.models import (
    AreaType,
    Customer,
    CustomerPhone,
    HandlingUnit,
    RoutingRule,
    ServiceArea,
)
from customers.validators import resident_id_check_digit
from knowledge.models import Article, ArticleCategory
from matters.models import ImportantMatter
from matters.services import MatterDraft, matter_file
from outages.models import Outage, OutageEvent, OutageNotice
from outages.notices import outage_notices_create
from outages.selectors import outage_customers_covered
from servicedesk.actors import Actor
from servicedesk.errors import DomainError
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Category, Channel, Satisfaction, Status, SubType, Ticket

DEMO_PASSWORD = "demo12345"
ACCOUNT_PREFIX = "9500"
CUSTOMER_COUNT = 500
ORDER_COUNT = 360

USERS = [
    # username, role, full name, staff?
    ("agent1", "agent", "王丽", False),
    ("agent2", "agent", "刘洋", False),
    ("crew1", "crew", "李强", False),
    ("crew2", "crew", "周军", False),
    ("crew3", "crew", "吴刚", False),
    ("dept1", "department", "陈静", False),
    ("hall1", "department", "郑芳", False),
    ("audit1", "department", "冯磊", False),
    ("supervisor1", "supervisor", "赵伟", False),
    ("manager1", "manager", "钱峰", False),
    ("admin", "admin", "孙敏", True),
]

UNITS = [
    # code, name, kind, parent, categories, members, supervisors
    (
        "centre",
        "95598客户服务中心",
        HandlingUnit.Kind.CALL_CENTRE,
        None,
        [],
        ["agent1", "agent2"],
        ["manager1"],
    ),
    (
        "crew-east",
        "城东抢修一班",
        HandlingUnit.Kind.CREW,
        "centre",
        ["repair"],
        ["crew1"],
        ["supervisor1"],
    ),
    (
        "crew-west",
        "城西抢修二班",
        HandlingUnit.Kind.CREW,
        "centre",
        ["repair"],
        ["crew1"],
        ["supervisor1"],
    ),
    (
        "crew-suburb",
        "城郊供电所抢修班",
        HandlingUnit.Kind.CREW,
        "centre",
        ["repair"],
        ["crew2"],
        ["supervisor1"],
    ),
    (
        "crew-mountain",
        "西山供电所抢修班",
        HandlingUnit.Kind.CREW,
        "centre",
        ["repair"],
        ["crew3"],
        ["supervisor1"],
    ),
    (
        "dept-service",
        "客户服务部",
        HandlingUnit.Kind.DEPARTMENT,
        "centre",
        ["inquiry", "complaint"],
        ["dept1"],
        ["supervisor1"],
    ),
    (
        "hall-business",
        "营业厅业务受理组",
        HandlingUnit.Kind.SERVICE_HALL,
        "centre",
        ["application"],
        ["hall1"],
        ["supervisor1"],
    ),
    (
        "dept-audit",
        "用电检查稽查大队",
        HandlingUnit.Kind.INSPECTION,
        "centre",
        ["report"],
        ["audit1"],
        ["supervisor1"],
    ),
]

AREAS = [
    # code, name, type, crew, households
    ("east", "城东供电区", AreaType.URBAN, "crew-east", 48000),
    ("west", "城西供电区", AreaType.URBAN, "crew-west", 41000),
    ("suburb", "城郊供电区", AreaType.RURAL, "crew-suburb", 26000),
    ("north", "北郊供电区", AreaType.RURAL, "crew-suburb", 18000),
    ("mountain", "西山供电区", AreaType.REMOTE, "crew-mountain", 6000),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "建国",
    "志强",
    "海燕",
    "玉兰",
    "国庆",
    "春梅",
]
STREETS = {
    "east": ["解放路", "人民路", "东风街", "朝阳大道"],
    "west": ["西湖路", "建设路", "和平街", "文化路"],
    "suburb": ["城郊镇新村", "柳树湾村", "王家庄"],
    "north": ["北郊镇", "红旗村", "高桥村"],
    "mountain": ["西山乡石门村", "西山乡云雾村", "岭口村"],
}
BUSINESSES = ["超市", "餐馆", "小学", "卫生院", "加工厂", "农机站", "养殖场", "宾馆"]

ARTICLES = [
    (
        "电价电费",
        "居民阶梯电价标准",
        "阶梯 电价 电费 多少钱 一度电",
        "居民生活用电实行阶梯电价：第一档年用电量2760千瓦时及以内，电价0.4883元/千瓦时；第二档2761至4800千瓦时，"
        "每千瓦时加价0.05元；第三档4800千瓦时以上，每千瓦时加价0.3元。",
    ),
    (
        "电价电费",
        "峰谷分时电价怎么申请",
        "峰谷 分时 谷电 夜间",
        "居民客户可自愿选择峰谷分时电价，峰时段8:00-22:00，谷时段22:00-次日8:00。携带户主身份证到营业厅或通过网上国网App申请，次月生效。",
    ),
    (
        "缴费渠道",
        "电费缴纳渠道",
        "缴费 交电费 支付宝 微信 网上国网",
        "可通过网上国网App、支付宝、微信生活缴费、银行代扣、营业厅柜台及自助缴费终端缴纳电费，缴费后一般即时到账。",
    ),
    (
        "缴费渠道",
        "欠费停电后如何复电",
        "欠费 停电 复电 恢复",
        "结清欠费及相应违约金后，系统将自动发起复电，一般在24小时内恢复供电；如超过时限未恢复，请再次致电95598。",
    ),
    (
        "停电信息",
        "如何查询计划停电",
        "计划停电 查询 停电通知",
        "计划停电提前7天在网上国网App、供电公司网站和停电区域公告栏发布，也可致电95598按户号或地址查询。",
    ),
    (
        "业务办理",
        "居民新装用电办理流程",
        "新装 开户 装表 办电",
        "居民新装需提供户主身份证、房屋产权证明。受理后3个工作日内完成装表接电。可通过网上国网App或营业厅办理。",
    ),
    (
        "业务办理",
        "更名过户需要什么材料",
        "过户 更名 户名",
        "更名过户需提供原户主及新户主身份证、房屋产权变更证明，结清电费后可办理，营业厅当场受理。",
    ),
    (
        "业务办理",
        "电能表校验申请",
        "电表 校验 走得快 不准",
        "客户对电能表准确性有异议可申请校验，校验结果超差的免费更换并退补电费；结果合格的按规定收取校验费。",
    ),
    (
        "政策法规",
        "供电设施产权分界",
        "产权 分界 收费 免费 维修",
        "产权分界点以外的供电设施由供电企业免费维修；客户产权范围内（表后线路及户内设施）的故障由客户自行处理，可委托有偿服务。",
    ),
    (
        "政策法规",
        "家电损坏如何索赔",
        "家电 烧坏 赔偿 电器损坏",
        "因供电企业责任造成的家用电器损坏，客户应在损坏后7日内向供电企业提出索赔，并保留损坏电器以备检验。",
    ),
    (
        "停电信息",
        "停电后家里其他户有电怎么办",
        "一户无电 邻居有电 跳闸",
        "请先检查家中总开关（漏电保护器）是否跳闸，如跳闸可拉下所有分路开关后再合上总开关，逐路送电查找故障电器。",
    ),
    (
        "业务办理",
        "光伏发电并网申请",
        "光伏 并网 分布式 发电",
        "分布式光伏并网可通过网上国网App提交申请，供电公司免费提供接入方案，并网验收后按规定结算上网电量。",
    ),
]


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)


def _users() -> dict[str, User]:
    users = {}
    for username, role, full_name, staff in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": full_name, "is_staff": staff, "is_superuser": staff},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    return users


def _units(users: dict[str, User]) -> dict[str, HandlingUnit]:
    units: dict[str, HandlingUnit] = {}
    for code, name, kind, parent, categories, members, supervisors in UNITS:
        unit, _ = HandlingUnit.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": kind,
                "parent": units.get(parent or ""),
                "categories": categories,
                "phone": "95598",
            },
        )
        unit.members.add(*(users[m] for m in members))
        unit.supervisors.add(*(users[s] for s in supervisors))
        units[code] = unit
    return units


def _routing(units: dict[str, HandlingUnit], areas: dict[str, ServiceArea]) -> None:
    """Routing rules (admin → 派单规则): each unit's categories, one sub-type rule, the
    suburb's supply station preferred for applications, the centre as the fallback unit."""
    for code, _name, _kind, _parent, categories, _members, _supervisors in UNITS:
        for category in categories:
            RoutingRule.objects.get_or_create(
                category=category,
                subtype=None,
                service_area=None,
                target=RoutingRule.Target.UNIT,
                unit=units[code],
                defaults={"priority": 100},
            )
    # 业扩工程 complaints concern connection works: the business hall answers them.
    RoutingRule.objects.get_or_create(
        category=Category.COMPLAINT,
        subtype=SubType.objects.get(code="complaint-expansion"),
        target=RoutingRule.Target.UNIT,
        unit=units["hall-business"],
        defaults={"note": "业扩工程投诉由营业厅答复"},
    )
    station, _ = HandlingUnit.objects.get_or_create(
        code="station-suburb",
        defaults={
            "name": "城郊供电所",
            "kind": HandlingUnit.Kind.STATION,
            "parent": units["centre"],
            "phone": "95598",
        },
    )
    ServiceArea.objects.filter(pk=areas["suburb"].pk, station__isnull=True).update(station=station)
    RoutingRule.objects.get_or_create(
        category=Category.APPLICATION,
        subtype=None,
        service_area=None,
        target=RoutingRule.Target.AREA_STATION,
        defaults={"priority": 10, "note": "业务受理优先派本区供电所"},
    )
    if not HandlingUnit.objects.filter(is_fallback=True).exists():
        HandlingUnit.objects.filter(pk=units["centre"].pk).update(is_fallback=True)


def _areas(units: dict[str, HandlingUnit]) -> dict[str, ServiceArea]:
    areas = {}
    for code, name, area_type, crew, households in AREAS:
        area, _ = ServiceArea.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "area_type": area_type,
                "crew": units[crew],
                "households": households,
            },
        )
        areas[code] = area
    return areas


def _resident_id(rng: random.Random) -> str:
    birth = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
    first17 = f"3301{rng.randrange(1, 99):02d}{birth:%Y%m%d}{rng.randrange(0, 999):03d}"
    return first17 + resident_id_check_digit(first17)


def _customers(areas: dict[str, ServiceArea], rng: random.Random) -> list[Customer]:
    existing = Customer.objects.filter(account_number__startswith=ACCOUNT_PREFIX).count()
    if existing >= CUSTOMER_COUNT:
        return list(
            Customer.objects.filter(account_number__startswith=ACCOUNT_PREFIX).order_by(
                "account_number"
            )
        )
    area_codes = [a[0] for a in AREAS]
    tariffs = list(Customer.Tariff.values)
    customers, phones = [], []
    for i in range(CUSTOMER_COUNT):
        account = f"{ACCOUNT_PREFIX}{i:06d}"
        area_code = area_codes[i % len(area_codes)]
        area = areas[area_code]
        street = rng.choice(STREETS[area_code])
        business = i % 9 == 0
        tariff = rng.choice(tariffs[1:]) if business else Customer.Tariff.RESIDENTIAL
        name = (
            f"{area.name[:2]}{rng.choice(BUSINESSES)}"
            if business
            else rng.choice(SURNAMES) + rng.choice(GIVEN)
        )
        important = business and i % 27 == 0
        customers.append(
            Customer(
                account_number=account,
                name=name,
                address=f"{area.name[:2]}{street}{rng.randrange(1, 300)}号"
                + ("" if business else f"{rng.randrange(1, 6)}单元"),
                service_area=area,
                feeder=f"{area.name[:2]}10kV{rng.randrange(1, 6)}号线",
                transformer_area=f"{street}{rng.randrange(1, 9)}号台区",
                meter_number=f"330{i:09d}",
                supply_voltage="10kV"
                if tariff in ("large_industrial", "general_industrial")
                else "220V",
                supply_relation=(
                    Customer.SupplyRelation.RESUPPLIED
                    if i % 40 == 0
                    else Customer.SupplyRelation.WHOLESALE
                    if i % 40 == 20
                    else Customer.SupplyRelation.DIRECT
                ),
                tariff=tariff,
                supply_source=(
                    Customer.SupplySource.DUAL_SOURCE
                    if important
                    else Customer.SupplySource.SELF_PROVIDED
                    if business and i % 4 == 1
                    else Customer.SupplySource.DEDICATED_LINE
                    if business and i % 4 == 2
                    else Customer.SupplySource.HIGH_VOLTAGE
                    if tariff == "large_industrial"
                    else Customer.SupplySource.LOW_VOLTAGE
                ),
                usage=Customer.Usage.SEASONAL
                if tariff == "agricultural"
                else Customer.Usage.TEMPORARY
                if i % 97 == 0
                else Customer.Usage.REGULAR,
                is_important=important,
                resident_id="" if business else _resident_id(rng),
            )
        )
    Customer.objects.bulk_create(customers, ignore_conflicts=True)
    saved = list(
        Customer.objects.filter(account_number__startswith=ACCOUNT_PREFIX).order_by(
            "account_number"
        )
    )
    for i, customer in enumerate(saved):
        phones.append(CustomerPhone(customer=customer, number=f"139{i:08d}", is_primary=True))
        if i % 5 == 0:
            phones.append(CustomerPhone(customer=customer, number=f"0571{88000000 + i:08d}"))
    CustomerPhone.objects.bulk_create(phones, ignore_conflicts=True)
    return saved


def _outages(areas: dict[str, ServiceArea], now: datetime) -> None:
    specs = [
        (
            "TD-DEMO-001",
            Outage.Kind.FAULT,
            "城东10kV2号线故障停电",
            "east",
            now - timedelta(hours=1),
            now + timedelta(hours=2),
            None,
            None,
        ),
        (
            "TD-DEMO-002",
            Outage.Kind.PLANNED,
            "城郊10kV3号线计划检修",
            "suburb",
            now + timedelta(days=4),
            now + timedelta(days=4, hours=8),
            None,
            now - timedelta(days=1),
        ),
        (
            "TD-DEMO-003",
            Outage.Kind.TEMPORARY,
            "西山乡线路临时消缺",
            "mountain",
            now - timedelta(minutes=30),
            now + timedelta(hours=3),
            None,
            now - timedelta(hours=2),
        ),
        (
            "TD-DEMO-004",
            Outage.Kind.FAULT,
            "城西变电站10kV母线故障",
            "west",
            now - timedelta(days=2),
            now - timedelta(days=2) + timedelta(hours=4),
            now - timedelta(days=2) + timedelta(hours=3),
            None,
        ),
    ]
    for number, kind, title, area_code, starts, expected, restored, notice in specs:
        outage, created = Outage.objects.get_or_create(
            number=number,
            defaults={
                "kind": kind,
                "title": title,
                "starts_at": starts,
                "expected_restoration_at": expected,
                "restored_at": restored,
                "notice_at": notice,
                "description": title,
                "feeders": [f"{areas[area_code].name[:2]}10kV2号线"],
            },
        )
        if created:
            outage.service_areas.add(areas[area_code])
            if number == "TD-DEMO-001":
                _outage_notices(outage, now=starts + timedelta(minutes=6))


def _outage_notices(outage: Outage, *, now: datetime) -> None:
    """The fault's text messages to its customers: gone out when it was registered, but one
    number the gateway refused, so the outage page shows sent and failed."""
    event = OutageEvent.objects.create(
        outage=outage, at=now, kind=OutageEvent.Kind.REGISTERED, actor_label="demo"
    )
    outage.customers_covered = outage_customers_covered(outage).count()
    outage.save(update_fields=["customers_covered"])
    outage_notices_create(outage=outage, event=event, now=now)
    notices = OutageNotice.objects.filter(event=event)
    notices.update(state=OutageNotice.State.SENT, attempts=1, sent_at=now + timedelta(seconds=20))
    first = notices.order_by("pk").first()
    if first is not None:
        notices.filter(pk=first.pk).update(
            state=OutageNotice.State.FAILED, sent_at=None, last_error="HTTP 400"
        )


def _frequent_outages(customer: Customer, now: datetime) -> None:
    """Three ended outages of the first customer's transformer area in the last 50 days: with
    the city-east fault still on, its card shows "frequent outages · 4 in 60 days"."""
    for n, days_ago in enumerate((48, 27, 9), start=1):
        starts = now - timedelta(days=days_ago)
        Outage.objects.get_or_create(
            number=f"TD-DEMO-F{n:02d}",
            defaults={
                "kind": Outage.Kind.FAULT,
                "title": f"{customer.transformer_area}低压故障",
                "starts_at": starts,
                "expected_restoration_at": starts + timedelta(hours=3),
                "restored_at": starts + timedelta(hours=2),
                "restoration_recorded_at": starts + timedelta(hours=2),
                "transformer_areas": [customer.transformer_area],
            },
        )


def _matters(areas: dict[str, ServiceArea], users: dict[str, User], now: datetime) -> None:
    """One important service matter in force for the city's two areas."""
    title = "营销系统升级暂停线上缴费"
    if ImportantMatter.objects.filter(title=title).exists():
        return
    matter_file(
        draft=MatterDraft(
            title=title,
            script=(
                "您好，因营销系统升级，线上缴费暂停至升级完成，期间不会因此停电或产生违约金，"
                "您可在升级完成后正常缴费。给您带来不便，敬请谅解。"
            ),
            background="升级期间网上国网和银行代收暂停；营业厅可现金缴费。",
            valid_from=now - timedelta(hours=2),
            valid_to=now + timedelta(days=3),
            service_areas=[areas["east"], areas["west"]],
        ),
        actor=Actor(user=users["supervisor1"]),
        now=now - timedelta(hours=2),
    )


def _knowledge() -> None:
    for title_index, (category_name, title, keywords, body) in enumerate(ARTICLES):
        category, _ = ArticleCategory.objects.get_or_create(
            name=category_name, defaults={"sort_order": title_index}
        )
        Article.objects.get_or_create(
            title=title, defaults={"category": category, "keywords": keywords, "body": body}
        )


DESCRIPTIONS = {
    Category.REPAIR: [
        "家里突然停电，邻居家也没电",
        "一户无电，总闸合不上",
        "电压忽高忽低，灯一闪一闪",
        "门口电线被大风刮断，有安全隐患",
        "电能表冒烟，有焦味",
    ],
    Category.INQUIRY: [
        "咨询本月电费为什么比上月高",
        "询问网上国网怎么交电费",
        "问明天是否计划停电",
        "咨询峰谷电价如何申请",
        "咨询新装用电需要什么材料",
    ],
    Category.APPLICATION: [
        "新建住宅申请新装用电",
        "店铺申请增容到20千瓦",
        "申请临时用电用于装修",
        "申请电能表校验",
        "申请更名过户",
    ],
    Category.COMPLAINT: [
        "抢修人员到达太慢，等了两个多小时",
        "营业厅工作人员态度差",
        "频繁停电，影响生意",
        "电费账单有误，多收费用",
        "业扩工程拖延",
    ],
    Category.REPORT: ["邻居私拉电线窃电", "发现有人偷盗电缆", "举报工作人员收受好处费"],
}


def _orders(
    customers: list[Customer], users: dict[str, User], rng: random.Random, now: datetime
) -> int:
    if Ticket.objects.filter(customer__account_number__startswith=ACCOUNT_PREFIX).exists():
        return 0
    subtypes: dict[str, list[SubType]] = {}
    for subtype in SubType.objects.filter(parent__isnull=True, is_active=True):
        subtypes.setdefault(subtype.category, []).append(subtype)
    agents = [services.Actor(user=users["agent1"]), services.Actor(user=users["agent2"])]
    handler_for = {
        Category.REPAIR: None,
        Category.INQUIRY: users["dept1"],
        Category.APPLICATION: users["hall1"],
        Category.COMPLAINT: users["dept1"],
        Category.REPORT: users["audit1"],
    }
    crew_user = {
        "crew-east": users["crew1"],
        "crew-west": users["crew1"],
        "crew-suburb": users["crew2"],
        "crew-mountain": users["crew3"],
    }
    weights = [
        (Category.REPAIR, 45),
        (Category.INQUIRY, 25),
        (Category.APPLICATION, 12),
        (Category.COMPLAINT, 12),
        (Category.REPORT, 6),
    ]
    categories = [c for c, w in weights for _ in range(w)]
    channels = [Channel.PHONE] * 7 + [Channel.IVR, Channel.APP, Channel.WECHAT, Channel.WEB]
    created = 0
    for i in range(ORDER_COUNT):
        category = categories[i % len(categories)]
        customer = customers[rng.randrange(len(customers))]
        # Spread over the last 30 days; the newest few stay open and running.
        age = timedelta(minutes=int((i / ORDER_COUNT) ** 2 * 30 * 24 * 60) + rng.randrange(0, 40))
        at = now - age
        agent = agents[i % 2]
        stage = rng.choice(
            [
                "accepted",
                "dispatched",
                "acknowledged",
                "on_site",
                "handed_back",
                "resolved",
                "visited",
                "archived",
                "archived",
                "archived",
                "cancelled",
                "terminated",
            ]
        )
        if age < timedelta(hours=2):
            stage = rng.choice(["accepted", "dispatched", "acknowledged", "on_site"])
        subtype_choices = subtypes[category]
        subtype = rng.choice(subtype_choices)
        try:
            with transaction.atomic():
                ticket = _one_order(
                    category=category,
                    customer=customer,
                    subtype=subtype,
                    agent=agent,
                    at=at,
                    stage=stage,
                    channel=rng.choice(channels),
                    rng=rng,
                    handler_for=handler_for,
                    crew_user=crew_user,
                    now=now,
                )
        except DomainError:
            continue
        created += ticket is not None
    return created + _linked_orders(customers, agents[0], subtypes, now)


def _linked_orders(customers, agent, subtypes, now) -> int:
    """Calls about the known fault outage are linked to it; a duplicate report becomes a child."""
    outage = Outage.objects.get(number="TD-DEMO-001")
    repair_lv = next(s for s in subtypes[Category.REPAIR] if s.code == "repair-lv")
    east = [c for c in customers if c.service_area.code == "east"][:7]
    created = 0
    for minutes, customer in enumerate(east[:6]):
        at = now - timedelta(minutes=50 - minutes * 7)
        ticket = services.ticket_create(
            draft=TicketDraft(
                category=Category.REPAIR,
                caller_phone=customer.phones.all()[0].number,
                description="突然停电，整栋楼都没电",
                customer=customer,
                subtype=repair_lv,
            ),
            actor=agent,
            now=at,
        )
        services.ticket_merge(
            ticket=ticket, actor=agent, outage=outage, note="已告知客户预计恢复时间", now=at
        )
        created += 1
    master = services.ticket_create(
        draft=TicketDraft(
            category=Category.REPAIR,
            caller_phone="13912340000",
            description="小区门口电线杆倾斜，电线下垂",
            customer=east[6],
            subtype=repair_lv,
        ),
        actor=agent,
        now=now - timedelta(minutes=25),
        dispatch=True,
    )
    child = services.ticket_create(
        draft=TicketDraft(
            category=Category.REPAIR,
            caller_phone="13912340001",
            description="路过看到电线杆倾斜（同一故障）",
            subtype=repair_lv,
            address=master.address,
            service_area=master.service_area,
        ),
        actor=agent,
        now=now - timedelta(minutes=20),
    )
    services.ticket_merge(ticket=child, actor=agent, master=master, now=now - timedelta(minutes=20))
    return created + 2


class _NotYet(Exception):
    """The next step of an order's story would lie in the future: it stops where it is."""


def _later(ticket, step: datetime, delta: timedelta, now: datetime) -> datetime:
    if step + delta >= now:
        raise _NotYet(ticket)
    return step + delta


def _one_order(**story):
    try:
        return _order_story(**story)
    except _NotYet as stopped:
        return stopped.args[0]


def _order_story(
    *, category, customer, subtype, agent, at, stage, channel, rng, handler_for, crew_user, now
):
    phone = customer.phones.all()[0].number if customer.phones.all() else "13900000000"
    extra = {}
    if category in (Category.COMPLAINT, Category.REPORT):
        extra["party"] = rng.choice(["城东抢修一班", "营业厅窗口", "抄表员", "不明人员"])
    if category == Category.APPLICATION:
        extra.update(
            contact_name=customer.name,
            contact_phone=phone,
            resident_id=customer.resident_id,
            application_channel=channel,
        )
    answered = (
        category == Category.INQUIRY and stage in ("resolved", "archived") and rng.random() < 0.7
    )
    if answered:
        extra.update(answer_on_call=True, reply="已按知识库口径答复客户")
    elif category == Category.INQUIRY:
        extra["reply_form"] = "callback"
    ticket = services.ticket_create(
        draft=TicketDraft(
            category=category,
            caller_phone=phone,
            description=rng.choice(DESCRIPTIONS[category]),
            channel=channel,
            customer=customer,
            subtype=subtype,
            **extra,
        ),
        actor=agent,
        now=at,
    )
    if answered:
        if stage == "archived":
            ticket = services.ticket_archive(
                ticket=ticket, actor=agent, now=_later(ticket, at, timedelta(minutes=5), now)
            )
        return ticket
    step = _later(ticket, at, timedelta(minutes=rng.randrange(1, 4)), now)
    if stage == "accepted":
        return ticket
    if stage == "cancelled":
        return services.ticket_cancel(
            ticket=ticket, actor=agent, reason="客户来电撤销诉求", now=step
        )
    ticket = services.ticket_dispatch(ticket=ticket, actor=agent, now=step)
    if stage == "dispatched":
        return ticket
    if stage == "terminated":
        # 服务终止: the claim turned out to be outside the utility's scope.
        return services.ticket_terminate(
            ticket=ticket,
            actor=agent,
            reason="经核实为小区物业自管设备，不属供电企业服务范围",
            now=_later(ticket, step, timedelta(minutes=30), now),
        )
    handler = handler_for[category] or crew_user.get(ticket.handling_unit.code)
    who = services.Actor(user=handler)
    step = _later(ticket, step, timedelta(minutes=rng.randrange(2, 15)), now)
    ticket = services.ticket_acknowledge(ticket=ticket, actor=who, now=step)
    if stage == "acknowledged":
        return ticket
    if category == Category.REPAIR:
        step = _later(ticket, step, timedelta(minutes=rng.randrange(15, 140)), now)
        ticket = services.ticket_record_arrival(ticket=ticket, actor=who, now=step)
        if stage == "on_site":
            return ticket
        step = _later(ticket, step, timedelta(minutes=rng.randrange(20, 180)), now)
        ticket = services.ticket_resolve(
            ticket=ticket, actor=who, cause="低压熔丝熔断", work_done="更换熔丝，恢复供电", now=step
        )
    elif stage == "on_site":
        return ticket
    elif category == Category.APPLICATION:
        step = _later(ticket, step, timedelta(days=rng.randrange(1, 4)), now)
        ticket = services.ticket_resolve(
            ticket=ticket, actor=who, work_done="已完成装表接电", power_on_at=step, now=step
        )
    else:
        step = _later(ticket, step, timedelta(hours=rng.randrange(2, 150)), now)
        ticket = services.ticket_reply(
            ticket=ticket,
            actor=who,
            reply="经核实，已向客户说明情况并致歉，客户表示认可。",
            now=step,
        )
    if ticket.status == Status.HANDED_BACK:
        # 回单审核: waiting for the agent, or checked — some sent back once (退单) first.
        if stage == "handed_back":
            return ticket
        step = _later(ticket, step, timedelta(minutes=rng.randrange(5, 60)), now)
        if rng.random() < 0.2:
            ticket = services.ticket_check_return(
                ticket=ticket, actor=agent, reason="回单内容不完整，请补充处理过程", now=step
            )
            step = _later(ticket, step, timedelta(minutes=rng.randrange(10, 60)), now)
            ticket = services.ticket_handback(
                ticket=ticket, actor=who, work_done="已补充处理过程说明", now=step
            )
            step = _later(ticket, step, timedelta(minutes=rng.randrange(5, 30)), now)
        ticket = services.ticket_check_accept(ticket=ticket, actor=agent, now=step)
    if stage in ("resolved", "handed_back"):
        return ticket
    step = _later(ticket, step, timedelta(hours=rng.randrange(1, 24)), now)
    satisfaction = rng.choice(
        [Satisfaction.VERY_SATISFIED] * 6
        + [Satisfaction.SATISFIED] * 3
        + [Satisfaction.DISSATISFIED]
    )
    ticket = services.ticket_visit(
        ticket=ticket, actor=agent, satisfaction=satisfaction, note="回访客户", now=step
    )
    if stage == "archived" and ticket.status == "visited":
        ticket = services.ticket_archive(
            ticket=ticket, actor=agent, now=_later(ticket, step, timedelta(minutes=10), now)
        )
    return ticket


def seed_demo(*, now: datetime | None = None) -> SeedReport:
    """Create the demo centre if it is not there yet; a second run adds nothing."""
    now = now or timezone.now()
    rng = random.Random(95598)
    with transaction.atomic():
        users = _users()
        units = _units(users)
        areas = _areas(units)
        _routing(units, areas)
        customers = _customers(areas, rng)
        _outages(areas, now)
        _frequent_outages(customers[0], now)
        _matters(areas, users, now)
        _knowledge()
    customers = list(
        Customer.objects.filter(account_number__startswith=ACCOUNT_PREFIX)
        .select_related("service_area")
        .prefetch_related("phones")
        .order_by("account_number")
    )
    orders = _orders(customers, users, rng, now)
    return SeedReport(created={"orders": orders})
