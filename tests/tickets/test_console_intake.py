"""The call-intake screen, as the agent uses it: find the caller, log the order, read out its number.

Requests go through the real URLs, forms and services; times are fixed with time-machine
(Beijing wall clock) where the page shows them.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.models import Call, Disposition
from knowledge.models import Article, ArticleCategory
from outages.models import Outage
from sla.models import Timer
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Hastening, Status, SubType, Ticket

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
INTAKE = reverse("tickets:intake")


def bj(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture
def agent_client(client, alice):
    client.force_login(alice)
    return client


def repair_post(customer=None, **extra):
    data = {
        "caller_phone": "13800000002",
        "category": "repair",
        "inside_installation": "no",
        "description": "家里突然没电了，邻居也没电",
    }
    if customer is not None:
        data["customer"] = customer.pk
    data.update(extra)
    return data


def test_the_console_is_in_chinese_and_shows_its_keyboard_shortcuts(agent_client):
    page = agent_client.get(INTAKE).content.decode()
    assert "来电号码" in page and "故障报修" in page and "查询咨询" in page
    for key in ("Alt+1", "Alt+5", "Ctrl+Enter", "Alt+S", "Alt+P", "Alt+C"):
        assert f"<kbd>{key}</kbd>" in page


def test_a_crew_member_cannot_open_the_console(client, bob):
    client.force_login(bob)
    assert client.get(INTAKE).status_code == 403


def test_the_callers_number_brings_up_the_customer_card(
    agent_client, rural_customer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(16):
        page = agent_client.get(INTAKE, {"phone": "138-0000-0002"}).content.decode()
    assert "李四" in page and "3100000002" in page
    assert "农村" in page  # area type, which decides the arrival limit
    assert "rural-1-10kV-1" in page and "rural-1-台区-1" in page
    assert f'name="customer" id="id_customer" value="{rural_customer.pk}"' in page


@pytest.mark.parametrize("query", ["3100000003", "王五", "山区供电区幸福路"])
def test_the_agent_finds_a_customer_by_account_number_name_or_address(
    agent_client, remote_customer, query
):
    panel = agent_client.get(reverse("tickets:caller_panel"), {"q": query}).content.decode()
    assert 'id="customer-card"' in panel and "王五" in panel


def test_a_number_several_customers_share_lists_them_to_choose_from(
    agent_client, urban_customer, rural_customer
):
    urban_customer.phones.create(number="01066668888")
    rural_customer.phones.create(number="01066668888")
    panel = agent_client.get(
        reverse("tickets:caller_panel"), {"phone": "010-66668888"}
    ).content.decode()
    assert "找到 2 位客户" in panel and 'id="customer-card"' not in panel
    assert (
        f'data-customer="{urban_customer.pk}"' in panel
        and f'data-customer="{rural_customer.pk}"' in panel
    )


def test_an_unknown_number_says_so_and_still_lets_the_order_be_taken(agent_client, urban_customer):
    panel = agent_client.get(
        reverse("tickets:caller_panel"), {"phone": "13911112222"}
    ).content.decode()
    assert "未找到客户档案" in panel


def test_a_rural_repair_is_dispatched_to_the_rural_crew_and_its_number_read_out(
    agent_client, rural_customer, rural_crew
):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        response = agent_client.post(INTAKE, repair_post(rural_customer))
        ticket = Ticket.objects.get()
        assert response.status_code == 302 and response["Location"].startswith(
            f"{INTAKE}?done={ticket.number}&"
        )
        page = agent_client.get(response["Location"]).content.decode()
    assert ticket.status == Status.DISPATCHED and ticket.handling_unit == rural_crew
    assert ticket.owner.username == "alice" and ticket.area_type == "rural"
    assert f'<output class="order-number" id="order-number">{ticket.number}</output>' in page
    # The arrival countdown: 85 minutes for a rural area, counted by the page from the due time.
    assert 'data-timer="arrival"' in page and 'data-due="2025-06-03T11:25:00+08:00"' in page
    assert not Timer.objects.filter(
        ticket=ticket, name="dispatch", stopped_at__isnull=True
    ).exists()


def test_the_order_taken_during_a_call_is_linked_to_it(agent_client, rural_customer, alice):
    services.call_event_handle(
        call_id="C-1",
        event="ring",
        at=bj(2025, 6, 3, 9, 59),
        caller_phone="13800000002",
        agent_username="alice",
    )
    agent_client.post(INTAKE, repair_post(rural_customer, call_id="C-1"))
    ticket = Ticket.objects.get()
    assert ticket.call.call_id == "C-1" and ticket.call_at == bj(2025, 6, 3, 9, 59)
    assert Call.objects.get(call_id="C-1").disposition == Disposition.ORDER


def test_a_fault_inside_the_customers_installation_is_closed_without_a_crew_as_paid_work(
    agent_client, urban_customer
):
    agent_client.post(
        INTAKE, repair_post(urban_customer, inside_installation="yes", description="家里跳闸")
    )
    ticket = Ticket.objects.get()
    assert ticket.status == Status.RESOLVED and ticket.handling_unit is None
    assert (
        ticket.inside_customer_installation and ticket.is_paid and ticket.asset_owner == "customer"
    )
    assert ticket.subtype.code == "repair-customer"


def test_repair_triage_must_be_answered_before_the_order_is_taken(agent_client, urban_customer):
    response = agent_client.post(INTAKE, repair_post(urban_customer, inside_installation=""))
    assert response.status_code == 400
    assert "请先询问故障是否在客户产权范围内" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_repair_without_a_known_customer_needs_the_fault_address(agent_client, urban_crew):
    response = agent_client.post(INTAKE, repair_post(caller_phone="13911112222"))
    assert response.status_code == 400
    assert "请填写故障地址" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_complaint_missing_the_party_shows_the_chinese_message_and_stores_nothing(
    agent_client, urban_customer, service_department
):
    subtype = SubType.objects.get(code="complaint-conduct")
    response = agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "complaint",
            "subtype": subtype.pk,
            "description": "抄表员态度恶劣",
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert (
        '<span class="field-error" id="err-party" role="alert">请填写被投诉的单位或人员。</span>'
        in page
    )
    assert "抄表员态度恶劣" in page  # what was typed is kept
    assert not Ticket.objects.exists()


def test_a_service_refusal_lands_next_to_its_field(
    agent_client, urban_customer, service_department
):
    response = agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "application",
            "subtype": SubType.objects.get(code="app-new").pk,
            "description": "新装一户",
            "resident_id": "110101199003071234",
            "contact_name": "张三",
            "contact_phone": "13800000001",
        },
    )
    assert response.status_code == 400
    assert 'id="err-resident_id" role="alert">身份证号码校验位不正确' in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_application_goes_to_the_service_department(
    agent_client, urban_customer, service_department
):
    agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "application",
            "subtype": SubType.objects.get(code="app-new").pk,
            "description": "新装一户",
            "resident_id": "110101199003071233",
            "contact_name": "张三",
            "contact_phone": "138 0000 0001",
        },
    )
    ticket = Ticket.objects.get()
    assert ticket.status == Status.DISPATCHED and ticket.handling_unit == service_department
    assert ticket.resident_id == "110101199003071233" and ticket.contact_phone == "13800000001"


@pytest.fixture
def outage(db, urban_area):
    outage = Outage.objects.create(
        number="TD-1",
        kind=Outage.Kind.FAULT,
        title="10kV城东线故障",
        starts_at=bj(2025, 6, 3, 9, 0),
        expected_restoration_at=bj(2025, 6, 3, 18, 30),
    )
    outage.service_areas.add(urban_area)
    return outage


def test_the_card_reads_out_the_outage_covering_the_customer(agent_client, urban_customer, outage):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        page = agent_client.get(INTAKE, {"phone": "13800000001"}).content.decode()
    assert "您所在区域因设备故障停电，预计今天 18:30 恢复供电。" in page


def test_a_planned_outage_tomorrow_is_announced_with_its_day(
    agent_client, urban_customer, urban_area
):
    planned = Outage.objects.create(
        number="JH-1",
        kind=Outage.Kind.PLANNED,
        title="线路检修",
        starts_at=bj(2025, 6, 4, 8, 0),
        expected_restoration_at=bj(2025, 6, 4, 17, 0),
        feeders=["urban-1-10kV-1"],
    )
    del planned
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        page = agent_client.get(INTAKE, {"phone": "13800000001"}).content.decode()
    assert "您所在区域将于明天 08:00 起因计划检修停电，预计明天 17:00 恢复供电。" in page


def test_a_restored_outage_is_not_on_the_card(agent_client, urban_customer, outage):
    Outage.objects.filter(pk=outage.pk).update(restored_at=bj(2025, 6, 3, 9, 30))
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        page = agent_client.get(INTAKE, {"phone": "13800000001"}).content.decode()
    assert "TD-1" not in page


def test_a_repair_in_an_outage_area_is_linked_to_the_outage_in_one_action_without_a_crew(
    agent_client, urban_customer, outage
):
    services.call_event_handle(
        call_id="C-2",
        event="ring",
        at=bj(2025, 6, 3, 10, 0),
        caller_phone="13800000001",
        agent_username="alice",
    )
    response = agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "call_id": "C-2",
            "link_outage": outage.pk,
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert (
        ticket.category == "repair" and ticket.status == Status.MERGED and ticket.outage == outage
    )
    assert ticket.handling_unit is None and ticket.dispatched_at is None
    assert "TD-1" in ticket.description
    assert Call.objects.get(call_id="C-2").disposition == Disposition.OUTAGE_INFO
    assert not Timer.objects.filter(ticket=ticket, stopped_at__isnull=True).exists()


@pytest.fixture
def article(db):
    category = ArticleCategory.objects.create(name="电费电价")
    return Article.objects.create(
        category=category,
        title="居民阶梯电价",
        keywords="阶梯 电价 电费",
        body="居民生活用电实行阶梯电价，第一档每月 200 千瓦时以内……",
    )


def test_an_inquiry_answered_from_the_knowledge_base_is_closed_on_the_call(
    agent_client, urban_customer, article
):
    agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "inquiry",
            "description": "咨询阶梯电价怎么算",
            "reply_form": "on_call",
            "reply": article.body,
            "knowledge_article": article.pk,
        },
    )
    ticket = Ticket.objects.get()
    assert ticket.status == Status.RESOLVED and ticket.reply_form == "on_call"
    assert (
        ticket.knowledge_article == article and ticket.reply == article.body and ticket.replied_at
    )
    assert ticket.handling_unit is None


def test_an_inquiry_answered_on_the_call_needs_the_answer_written_down(
    agent_client, urban_customer
):
    response = agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "inquiry",
            "description": "咨询阶梯电价怎么算",
            "reply_form": "on_call",
        },
    )
    assert response.status_code == 400 and "请填写当即答复的内容" in response.content.decode()


def test_an_inquiry_that_cannot_be_answered_now_gets_a_callback_from_the_department(
    agent_client, urban_customer, service_department
):
    agent_client.post(
        INTAKE,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "inquiry",
            "description": "咨询去年多缴电费如何退还",
            "reply_form": "callback",
        },
    )
    ticket = Ticket.objects.get()
    assert ticket.status == Status.DISPATCHED and ticket.reply_form == "callback"
    assert ticket.handling_unit == service_department
    assert Timer.objects.filter(ticket=ticket, name="callback", stopped_at__isnull=True).exists()


def test_a_repeat_call_is_a_hastening_on_the_open_order_not_a_new_order(
    agent_client, alice_actor, urban_customer
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )
    page = agent_client.get(INTAKE, {"phone": "13800000001"}).content.decode()
    assert ticket.number in page and "登记催办" in page
    response = agent_client.post(
        reverse("tickets:hasten", args=[ticket.number]),
        {"text": "怎么还没来", "caller_phone": "13800000001"},
        follow=True,
    )
    assert Ticket.objects.count() == 1
    hastening = Hastening.objects.get()
    assert hastening.ticket == ticket and hastening.text == "怎么还没来"
    ticket.refresh_from_db()
    assert ticket.call_count == 2
    assert f"已在工单 {ticket.number} 上登记催办" in response.content.decode()


def test_a_closed_order_cannot_be_hastened(agent_client, alice_actor, urban_customer):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )
    services.ticket_cancel(ticket=ticket, actor=alice_actor, reason="客户来电已自行恢复")
    agent_client.post(
        reverse("tickets:hasten", args=[ticket.number]), {"caller_phone": "13800000001"}
    )
    assert not Hastening.objects.exists()


def test_a_wrong_number_is_logged_on_the_call_in_one_action(agent_client, alice):
    services.call_event_handle(
        call_id="C-3",
        event="ring",
        at=bj(2025, 6, 3, 10, 0),
        caller_phone="13911112222",
        agent_username="alice",
    )
    agent_client.post(
        reverse("tickets:call_disposition"), {"call_id": "C-3", "disposition": "wrong_number"}
    )
    assert Call.objects.get(call_id="C-3").disposition == Disposition.WRONG_NUMBER
    assert not Ticket.objects.exists()


def test_a_nuisance_call_without_a_switch_record_is_still_logged(agent_client, alice):
    agent_client.post(
        reverse("tickets:call_disposition"),
        {"caller_phone": "139-1111-2222", "disposition": "nuisance"},
    )
    call = Call.objects.get()
    assert call.disposition == Disposition.NUISANCE and call.caller_phone == "13911112222"
    assert call.agent == alice


def test_the_page_learns_of_the_call_ringing_for_this_agent(
    client, alice, dave, django_assert_max_num_queries
):
    client.force_login(alice)
    url = reverse("tickets:live_call")
    assert client.get(url).json() == {"call": None}
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        services.call_event_handle(
            call_id="C-4",
            event="ring",
            at=bj(2025, 6, 3, 10, 0),
            caller_phone="13800000002",
            agent_username="alice",
        )
        with django_assert_max_num_queries(5):
            call = client.get(url).json()["call"]
        assert (
            call["call_id"] == "C-4"
            and call["caller_phone"] == "13800000002"
            and call["state"] == "ringing"
        )
        client.force_login(dave)
        assert client.get(url).json() == {"call": None}  # another position's call
        client.force_login(alice)
        services.call_event_handle(call_id="C-4", event="hangup", at=bj(2025, 6, 3, 10, 3))
        assert client.get(url).json() == {"call": None}
