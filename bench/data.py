"""The shared benchmark data set, generated inside PostgreSQL with generate_series.

One data set serves every benchmark: 1,000,000 customers (with phones), 2,000,000 orders over
the last year — 1,000,000 of them open (taken in the last week), with a running timer each,
10,000 of those past due — and 5,000,000 calls spread over the year. Generating rows in SQL keeps the load to a few minutes on two cores and
sends nothing over the wire. A marker table records the spec loaded, so a second `make bench`
reuses the data instead of loading it again.

Columns are filled from the models' own metadata: a column the generator does not name gets
the field's default (or NULL), so a new nullable or defaulted field never breaks the loader.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass

from django.apps import apps
from django.db import connection, models

BEIJING_DAY = "to_char({ts} AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')"


@dataclass(frozen=True)
class Spec:
    areas: int = 60
    agents: int = 40
    customers: int = 1_000_000
    tickets: int = 2_000_000
    open_tickets: int = 1_000_000
    past_due: int = 10_000
    calls: int = 5_000_000
    days: int = 365
    version: int = 4


def django_setup(database_url: str) -> None:
    """Point Django at the benchmark database and set it up (once per process)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    import django

    if not apps.ready:
        django.setup()


def _literal(field: models.Field) -> str:
    if field.null:
        return "NULL"
    if field.has_default():
        default = field.get_default()
        if isinstance(default, bool):
            return "TRUE" if default else "FALSE"
        if isinstance(default, int | float):
            return str(default)
        if isinstance(default, list | dict):
            return f"'{json.dumps(default)}'::jsonb"
        return "'" + str(default).replace("'", "''") + "'"
    if isinstance(field, models.CharField | models.TextField):
        return "''"
    raise ValueError(f"{field.model.__name__}.{field.name} needs a value in the generator")


def insert_select(model: type[models.Model], values: dict[str, str], source: str) -> int:
    """INSERT INTO <model table> (<all columns>) SELECT <expressions> <source>.

    `values` maps field names (or attnames) to SQL expressions; every other concrete column
    gets its default. Returns the number of rows inserted.
    """
    columns, expressions = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in values and field.attname not in values:
            continue
        expression = values.get(field.name, values.get(field.attname))
        columns.append(connection.ops.quote_name(field.column))
        expressions.append(expression if expression is not None else _literal(field))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} {source}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount


def _loaded(spec: Spec) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_dataset (spec text NOT NULL)")
        cursor.execute("SELECT spec FROM bench_dataset")
        row = cursor.fetchone()
    return row is not None and row[0] == json.dumps(asdict(spec), sort_keys=True)


def _step(label: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {label:<46} {now - started:6.1f} s", flush=True)
    return now


def ensure_data(spec: Spec = Spec()) -> Spec:
    """Load the data set unless this exact spec is already there."""
    if _loaded(spec):
        print("bench data: already loaded", json.dumps(asdict(spec)))
        return spec
    print("bench data: loading", json.dumps(asdict(spec)), flush=True)
    t = time.perf_counter()
    Customer = apps.get_model("customers", "Customer")
    CustomerPhone = apps.get_model("customers", "CustomerPhone")
    ServiceArea = apps.get_model("customers", "ServiceArea")
    HandlingUnit = apps.get_model("customers", "HandlingUnit")
    Ticket = apps.get_model("tickets", "Ticket")
    Call = apps.get_model("calls", "Call")
    User = apps.get_model("auth", "User")
    Group = apps.get_model("auth", "Group")

    with connection.cursor() as cursor:
        tables = [
            m._meta.db_table
            for m in apps.get_models()
            if m._meta.app_label
            in {"customers", "tickets", "calls", "sla", "outages", "api", "dashboard"}
            and not m._meta.proxy
            and m._meta.managed
        ]
        tables = [
            t_
            for t_ in tables
            if t_ not in ("sla_slarule", "sla_holiday", "tickets_subtype", "sla_escalationstep")
        ]
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute(
            "DELETE FROM auth_user_groups WHERE user_id IN "
            "(SELECT id FROM auth_user WHERE username LIKE 'bench-%%')"
        )
        cursor.execute("DELETE FROM auth_user WHERE username LIKE 'bench-%%'")
        cursor.execute("DELETE FROM bench_dataset")
    t = _step("emptied the tables", t)

    insert_select(
        HandlingUnit,
        {
            "code": "'bench-crew-' || g",
            "name": "'抢修班组' || g",
            "kind": "'crew'",
            "categories": "'[\"repair\"]'::jsonb",
        },
        f"FROM generate_series(1::bigint, {spec.areas}) g",
    )
    insert_select(
        HandlingUnit,
        {
            "code": "'bench-dept-' || g",
            "name": "'职能部门' || g",
            "kind": "'department'",
            "categories": '\'["inquiry","application","complaint","report"]\'::jsonb',
        },
        "FROM generate_series(1::bigint, 5) g",
    )
    # Routing rules (emptied with the units): repairs to the area's crew, the rest to a department.
    RoutingRule = apps.get_model("customers", "RoutingRule")
    department = HandlingUnit.objects.get(code="bench-dept-1")
    RoutingRule.objects.bulk_create(
        [RoutingRule(category="repair", target="area_crew", priority=10)]
        + [
            RoutingRule(category=category, unit=department)
            for category in ("inquiry", "application", "complaint", "report")
        ]
    )
    insert_select(
        ServiceArea,
        {
            "code": "'bench-area-' || g",
            "name": "'供电区' || g",
            "area_type": "(ARRAY['urban','rural','remote'])[1 + g % 3]",
            "crew_id": "(SELECT id FROM customers_handlingunit WHERE code = 'bench-crew-' || g)",
            "households": "20000",
        },
        f"FROM generate_series(1::bigint, {spec.areas}) g",
    )
    insert_select(
        User,
        {
            "username": "'bench-agent-' || g",
            "password": "'!'",
            "is_superuser": "FALSE",
            "first_name": "'坐席' || g",
            "last_name": "''",
            "email": "''",
            "is_staff": "FALSE",
            "is_active": "TRUE",
            "date_joined": "now()",
        },
        f"FROM generate_series(1::bigint, {spec.agents}) g",
    )
    agent_group = Group.objects.get(name="agent").pk
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO auth_user_groups (user_id, group_id) SELECT id, %s FROM auth_user "
            "WHERE username LIKE 'bench-agent-%%'",
            [agent_group],
        )
        cursor.execute(
            "SELECT min(id), max(id) FROM customers_servicearea WHERE code LIKE 'bench-area-%%'"
        )
        area_lo, area_hi = cursor.fetchone()
        cursor.execute(
            "SELECT min(id), max(id) FROM auth_user WHERE username LIKE 'bench-agent-%%'"
        )
        agent_lo, agent_hi = cursor.fetchone()
        cursor.execute("SELECT min(id) FROM customers_handlingunit WHERE code LIKE 'bench-dept-%%'")
        (dept_lo,) = cursor.fetchone()
    areas_n = area_hi - area_lo + 1
    agents_n = agent_hi - agent_lo + 1
    t = _step("units, areas, agents", t)

    surnames = "(ARRAY['王','李','张','刘','陈','杨','黄','赵','吴','周','徐','孙','马','朱','胡','郭','何','高','林','罗'])"
    given = "(ARRAY['伟','芳','娜','敏','静','丽','强','磊','军','洋','勇','艳','杰','娟','涛','明','超','霞','平','刚'])"
    streets = "(ARRAY['解放路','人民路','建设路','和平街','文化路','朝阳大道','中山路','新华街','柳树湾村','红旗村'])"
    insert_select(
        Customer,
        {
            "id": "g",
            "account_number": "lpad((3100000000 + g)::text, 10, '0')",
            "name": f"{surnames}[1 + g % 20] || {given}[1 + (g / 20) % 20] || {given}[1 + (g / 400) % 20]",
            "address": f"'供电区' || (1 + g % {areas_n}) || {streets}[1 + (g / 7) % 10] || (1 + g % 997) || '号'",
            "service_area_id": f"{area_lo} + g % {areas_n}",
            "feeder": f"'10kV' || (g % {areas_n * 8}) || '号线'",
            "transformer_area": f"'台区' || (g % {areas_n * 80})",
            "meter_number": "'330' || lpad(g::text, 9, '0')",
            "supply_voltage": "'220V'",
            "tariff": "(ARRAY['residential','residential','residential','residential','non_residential','commercial',"
            "'general_industrial','large_industrial','agricultural','wholesale'])[1 + g % 10]",
            "is_important": "(g % 997 = 0)",
            "created_at": "now()",
        },
        f"FROM generate_series(1::bigint, {spec.customers}) g",
    )
    t = _step(f"{spec.customers:,} customers", t)
    insert_select(
        CustomerPhone,
        {
            "customer_id": "g",
            "number": "'139' || lpad(g::text, 8, '0')",
            "is_primary": "TRUE",
        },
        f"FROM generate_series(1::bigint, {spec.customers}) g",
    )
    t = _step(f"{spec.customers:,} customer phones", t)

    # Orders: ids 1..open are open (taken in the last seven days), the rest closed over the year.
    created = (
        f"CASE WHEN g <= {spec.open_tickets} "
        f"THEN now() - ((g % 10080) * interval '1 minute') "
        f"ELSE now() - ((g % ({spec.days} * 1440)) * interval '1 minute') END"
    )
    category = "(ARRAY['repair','repair','repair','repair','inquiry','inquiry','application','complaint','complaint','report'])[1 + g % 10]"
    open_status = "(ARRAY['accepted','dispatched','acknowledged','on_site'])[1 + (g / 10) % 4]"
    closed_status = "(ARRAY['archived','archived','archived','visited','resolved','cancelled'])[1 + (g / 10) % 6]"
    status = f"CASE WHEN g <= {spec.open_tickets} THEN {open_status} ELSE {closed_status} END"
    customer = f"1 + (g * 7919) % {spec.customers}"
    insert_select(
        Ticket,
        {
            "id": "g",
            "number": BEIJING_DAY.format(ts=created) + " || lpad(g::text, 10, '0')",
            "category": category,
            "channel": "(ARRAY['phone','phone','phone','ivr','app','wechat','web'])[1 + g % 7]",
            "status": status,
            "caller_phone": f"'139' || lpad(({customer})::text, 8, '0')",
            "call_at": created,
            "customer_id": customer,
            "address": "'bench address'",
            "description": "'bench order'",
            "owner_id": f"{agent_lo} + g % {agents_n}",
            "service_area_id": f"{area_lo} + ({customer}) % {areas_n}",
            "area_type": f"(ARRAY['urban','rural','remote'])[1 + ({area_lo} + ({customer}) % {areas_n} - {area_lo} + 1) % 3]",
            "handling_unit_id": (
                f"CASE WHEN {category} = 'repair' THEN "
                f"(SELECT crew_id FROM customers_servicearea WHERE id = {area_lo} + ({customer}) % {areas_n}) "
                f"ELSE {dept_lo} + g % 5 END"
            ),
            "is_important": f"(({customer}) % 997 = 0)",
            "created_at": created,
            "updated_at": created,
            "dispatched_at": f"CASE WHEN {status} <> 'accepted' THEN {created} + interval '2 minutes' END",
            "arrived_at": (
                f"CASE WHEN g > {spec.open_tickets} AND {category} = 'repair' "
                f"THEN {created} + ((30 + g % 90) * interval '1 minute') END"
            ),
            "resolved_at": f"CASE WHEN g > {spec.open_tickets} THEN {created} + interval '3 hours' END",
            "satisfaction": (
                f"CASE WHEN {status} IN ('visited','archived') "
                f"THEN (ARRAY['very_satisfied','satisfied','satisfied','neutral','dissatisfied'])[1 + g % 5] "
                f"ELSE '' END"
            ),
            "visited_at": f"CASE WHEN {status} IN ('visited','archived') THEN {created} + interval '1 day' END",
        },
        f"FROM generate_series(1::bigint, {spec.tickets}) g",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [spec.tickets]
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('customers_customer', 'id'), %s)",
            [spec.customers],
        )
    t = _step(f"{spec.tickets:,} orders", t)

    # Calls spread evenly over the year, one every few seconds.
    ring = f"now() - ((g * {spec.days * 86400} / {spec.calls}) * interval '1 second')"
    insert_select(
        Call,
        {
            "call_id": "'bench-' || g",
            "caller_phone": f"'139' || lpad((1 + (g * 31) % {spec.customers})::text, 8, '0')",
            "agent_id": f"CASE WHEN g % 20 <> 0 THEN {agent_lo} + g % {agents_n} END",
            "ring_at": ring,
            "answer_at": f"CASE WHEN g % 20 <> 0 THEN {ring} + ((g % 25) * interval '1 second') END",
            "hangup_at": f"{ring} + ((30 + g % 400) * interval '1 second')",
            "disposition": "(ARRAY['order','order','hastening','outage_info','wrong_number','other'])[1 + g % 6]",
            "created_at": ring,
        },
        f"FROM generate_series(1::bigint, {spec.calls}) g",
    )
    t = _step(f"{spec.calls:,} calls", t)

    if "sla" in {a.label for a in apps.get_app_configs()}:
        t = _timers(spec, t)

    with connection.cursor() as cursor:
        for table in (
            "customers_customer",
            "customers_customerphone",
            "tickets_ticket",
            "calls_call",
            "sla_timer",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
        cursor.execute(
            "INSERT INTO bench_dataset (spec) VALUES (%s)",
            [json.dumps(asdict(spec), sort_keys=True)],
        )
    _step("vacuum analyze", t)
    return spec


def _timers(spec: Spec, t: float) -> float:
    """One running timer per open order; `past_due` of them already past their due time."""
    Timer = apps.get_model("sla", "Timer")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, min(id) FROM sla_slarule GROUP BY name")
        rule = dict(cursor.fetchall())
    name = (
        "CASE WHEN t.status = 'accepted' THEN 'dispatch' "
        "WHEN t.category = 'repair' THEN 'arrival' "
        "WHEN t.category = 'inquiry' THEN 'callback' ELSE 'reply' END"
    )
    rule_id = (
        f"CASE WHEN t.status = 'accepted' THEN {rule['dispatch']} "
        f"WHEN t.category = 'repair' THEN {rule['arrival']} "
        f"WHEN t.category = 'inquiry' THEN {rule['callback']} ELSE {rule['reply']} END"
    )
    # Past-due timers are spread over the last hour; the rest are due from one to 48 hours ahead.
    due = (
        f"CASE WHEN t.id <= {spec.past_due} THEN now() - ((t.id % 3600) * interval '1 second') "
        f"ELSE now() + ((3600 + t.id % 172800) * interval '1 second') END"
    )
    insert_select(
        Timer,
        {
            "ticket_id": "t.id",
            "name": name,
            "rule_id": rule_id,
            "started_at": "t.created_at",
            "due_at": due,
            "at_risk_at": f"t.created_at + ({due} - t.created_at) * 0.8",
            "category": "t.category",
            "area_type": "t.area_type",
            "handling_unit_id": "t.handling_unit_id",
            "owner_id": "t.owner_id",
            "is_important": "t.is_important",
        },
        f"FROM tickets_ticket t WHERE t.id <= {spec.open_tickets}",
    )
    # Each open order's copy of its running deadline (Ticket.deadlines), as the services keep it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE tickets_ticket t SET deadlines = jsonb_build_object(m.name, "
            "to_char(m.due_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') "
            "|| '+08:00') FROM sla_timer m WHERE m.ticket_id = t.id AND m.stopped_at IS NULL"
        )
    return _step(f"{spec.open_tickets:,} running timers ({spec.past_due:,} past due)", t)
