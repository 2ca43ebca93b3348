"""My orders, the unit's orders and the order page: what each role sees and may do.

List pages ask a fixed number of queries whatever the number of orders.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from order_cast import take_order

from tickets import services
from tickets.models import Hastening, Status, Ticket

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
MY_ORDERS = reverse("tickets:my_orders")
UNIT_ORDERS = reverse("tickets:unit_orders")


def bj(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def order(actor, category, description, **extra):
    """An order from the usual caller; `extra` goes to ticket_create as it is."""
    return take_order(
        category=category, caller_phone="13800000001", description=description, **extra, actor=actor
    )


def repair(actor, customer, *, now, dispatch=True, **extra):
    return order(
        actor, "repair", "家里没电", customer=customer, dispatch=dispatch, now=now, **extra
    )


def callback_inquiry(actor, customer, description):
    return order(
        actor, "inquiry", description, customer=customer, reply_form="callback", dispatch=True
    )


def repair_inside_installation(actor, customer):
    """Closed on the call (the fault is the customer's own): next comes the return visit."""
    return order(actor, "repair", "跳闸", customer=customer, inside_customer_installation=True)


def detail_url(ticket):
    return reverse("tickets:detail", args=[ticket.number])


def action_url(ticket, action):
    return reverse("tickets:action", args=[ticket.number, action])


# --- My orders ----------------------------------------------------------------------------------


def test_my_orders_counts_down_the_arrival_of_a_dispatched_repair(
    client, alice, alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0))
    client.force_login(alice)
    with time_machine.travel(bj(2025, 6, 3, 10, 10), tick=False):
        page = client.get(MY_ORDERS).content.decode()
    assert ticket.number in page
    assert 'data-timer="arrival"' in page and 'data-due="2025-06-03T10:40:00+08:00"' in page
    assert "row-breached" not in page and "row-at-risk" not in page


def test_my_orders_highlights_at_risk_and_breached_timers(
    client, alice, alice_actor, urban_customer, rural_customer
):
    at_risk = repair(
        alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0)
    )  # due 10:40, at risk from 10:32
    breached = repair(alice_actor, rural_customer, now=bj(2025, 6, 3, 8, 0))  # due 09:25
    client.force_login(alice)
    with time_machine.travel(bj(2025, 6, 3, 10, 35), tick=False):
        page = client.get(MY_ORDERS).content.decode()
    row = {
        t.number: page.split(f'data-number="{t.number}"')[0].rsplit("<tr", 1)[1]
        for t in (at_risk, breached)
    }
    assert "row-at-risk" in row[at_risk.number] and "row-breached" not in row[at_risk.number]
    assert "row-breached" in row[breached.number]
    assert 'class="countdown breached"' in page and 'class="countdown at-risk"' in page


def test_my_orders_lists_callbacks_and_return_visits_due_but_not_other_agents_orders(
    client, alice, alice_actor, dave, urban_customer, service_department
):
    callback = callback_inquiry(alice_actor, urban_customer, "电费疑问")
    to_visit = repair_inside_installation(alice_actor, urban_customer)
    answered = order(
        alice_actor, "inquiry", "缴费渠道", answer_on_call=True, reply="可通过网上国网缴费"
    )
    someone_elses = repair(services.Actor(user=dave), urban_customer, now=None)
    client.force_login(alice)
    page = client.get(MY_ORDERS).content.decode()
    callbacks, rest = page.split('id="callbacks"')[1].split('id="return-visits"')
    assert callback.number in callbacks
    assert to_visit.number in rest.split('id="to-archive"')[0]
    assert answered.number not in page  # answered on the call: nothing left to do
    assert someone_elses.number not in page


def test_my_orders_asks_the_same_number_of_queries_for_many_orders(
    client, alice, alice_actor, urban_customer, django_assert_num_queries
):
    client.force_login(alice)
    repair(alice_actor, urban_customer, now=None)
    with django_assert_num_queries(5) as few:
        client.get(MY_ORDERS)
    for _ in range(6):
        repair(alice_actor, urban_customer, now=None)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(MY_ORDERS).content.decode()
    assert page.count('data-timer="arrival"') == 7


# --- Unit orders ---------------------------------------------------------------------------------


def test_a_crew_sees_its_open_orders_with_countdowns_in_a_fixed_number_of_queries(
    client, bob, alice_actor, urban_customer, rural_customer, django_assert_num_queries
):
    mine = repair(alice_actor, urban_customer, now=None)
    other_crew = repair(alice_actor, rural_customer, now=None)
    client.force_login(bob)
    with django_assert_num_queries(5) as few:
        page = client.get(UNIT_ORDERS).content.decode()
    assert mine.number in page and other_crew.number not in page
    assert "我所在单位的未完成工单" in page and 'data-timer="arrival"' in page
    for _ in range(5):
        repair(alice_actor, urban_customer, now=None)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(UNIT_ORDERS)


# --- The order page ------------------------------------------------------------------------------


def test_the_order_page_shows_fields_timeline_timers_and_the_crews_actions(
    client, bob, alice_actor, urban_customer, django_assert_max_num_queries
):
    ticket = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0))
    client.force_login(bob)
    with time_machine.travel(bj(2025, 6, 3, 10, 5), tick=False), django_assert_max_num_queries(12):
        page = client.get(detail_url(ticket)).content.decode()
    assert "张三 (3100000001)" in page and "城东供电区幸福路001号" in page
    assert "受理" in page and "派单" in page  # the timeline
    assert 'data-due="2025-06-03T10:40:00+08:00"' in page
    assert 'action="/tickets/' in page
    for action in ("acknowledge", "arrive"):
        assert action_url(ticket, action) in page
    for action in ("cancel", "visit", "dispatch"):
        assert action_url(ticket, action) not in page


def test_the_order_page_asks_the_same_number_of_queries_however_long_the_timeline(
    client, alice, alice_actor, urban_customer, django_assert_num_queries
):
    ticket = repair(alice_actor, urban_customer, now=None)
    client.force_login(alice)
    with django_assert_num_queries(7) as few:
        client.get(detail_url(ticket))
    for text in ("还没来", "快点", "第三次了"):
        services.ticket_hasten(ticket=ticket, actor=alice_actor, text=text)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(detail_url(ticket)).content.decode()
    assert "第三次了" in page and "督办" in page


def test_a_crew_member_acknowledges_and_records_arrival_from_the_order_page(
    client, bob, alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer, now=None)
    client.force_login(bob)
    assert client.post(action_url(ticket, "acknowledge")).status_code == 302
    response = client.post(action_url(ticket, "arrive"), follow=True)
    ticket.refresh_from_db()
    assert ticket.status == Status.ON_SITE and ticket.handler == bob
    assert "已记录" in response.content.decode()


def test_an_agent_cannot_acknowledge_for_the_crew(client, alice, alice_actor, urban_customer):
    ticket = repair(alice_actor, urban_customer, now=None)
    client.force_login(alice)
    response = client.post(action_url(ticket, "acknowledge"))
    # The state allows it, the role does not: 403, as on the API (accounts.matrix.ACTIONS).
    assert response.status_code == 403 and "您不能办理此操作" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.DISPATCHED


def test_a_crew_member_of_another_unit_does_not_see_the_order(
    client, alice_actor, rural_customer, bob
):
    ticket = repair(alice_actor, rural_customer, now=None)
    client.force_login(bob)
    assert client.get(detail_url(ticket)).status_code == 404
    assert client.post(action_url(ticket, "acknowledge")).status_code == 404


def test_cancelling_needs_a_reason_shown_in_chinese_and_changes_nothing_without_one(
    client, alice, alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer, now=None)
    client.force_login(alice)
    response = client.post(action_url(ticket, "cancel"), {"reason": "  "})
    assert response.status_code == 400
    assert 'id="err-reason" role="alert">请填写撤销原因' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.DISPATCHED
    client.post(action_url(ticket, "cancel"), {"reason": "客户已自行恢复"})
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED and ticket.cancel_reason == "客户已自行恢复"


def test_the_return_visit_with_satisfaction_then_archiving(
    client, alice, alice_actor, urban_customer
):
    ticket = repair_inside_installation(alice_actor, urban_customer)
    client.force_login(alice)
    page = client.get(detail_url(ticket)).content.decode()
    assert action_url(ticket, "visit") in page and action_url(ticket, "archive") not in page
    client.post(action_url(ticket, "visit"), {"satisfaction": "very_satisfied", "note": "客户满意"})
    client.post(action_url(ticket, "archive"))
    ticket.refresh_from_db()
    assert ticket.status == Status.ARCHIVED and ticket.satisfaction == "very_satisfied"


def test_a_dissatisfied_return_visit_reopens_the_order(client, alice, alice_actor, urban_customer):
    ticket = repair_inside_installation(alice_actor, urban_customer)
    client.force_login(alice)
    client.post(action_url(ticket, "visit"), {"satisfaction": "dissatisfied"})
    ticket.refresh_from_db()
    assert ticket.status == Status.DISPATCHED and ticket.reopen_count == 1


def test_the_department_replies_to_a_complaint(
    client, carol, alice_actor, urban_customer, service_department
):
    ticket = order(
        alice_actor,
        "complaint",
        "态度差",
        party="城东供电所",
        customer=urban_customer,
        dispatch=True,
    )
    client.force_login(carol)
    response = client.post(action_url(ticket, "reply"), {"reply": ""})
    assert response.status_code == 400 and "err-reply" in response.content.decode()
    client.post(action_url(ticket, "reply"), {"reply": "已核实，对相关人员进行批评教育"})
    ticket.refresh_from_db()
    # The department's reply goes to the centre's check (回单审核).
    assert ticket.status == Status.HANDED_BACK and ticket.reply.startswith("已核实")


def test_the_agent_answers_a_callback_inquiry_from_the_order_page(
    client, alice, alice_actor, urban_customer, service_department
):
    ticket = callback_inquiry(alice_actor, urban_customer, "多缴电费怎么退")
    client.force_login(alice)
    client.post(action_url(ticket, "reply"), {"reply": "已回电：余额可抵下月电费"})
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.replied_at is not None


def test_hastening_from_the_order_page(client, alice, alice_actor, urban_customer):
    ticket = repair(alice_actor, urban_customer, now=None)
    client.force_login(alice)
    client.post(action_url(ticket, "hasten"), {"text": "客户再次来电"})
    assert Hastening.objects.get().text == "客户再次来电"


def test_an_unknown_action_is_refused(client, alice, alice_actor, urban_customer):
    ticket = repair(alice_actor, urban_customer, now=None)
    client.force_login(alice)
    assert client.post(action_url(ticket, "merge")).status_code == 404
    assert Ticket.objects.get().status == Status.DISPATCHED


def test_the_resident_id_is_masked_for_an_agent(
    client, alice, alice_actor, urban_customer, service_department
):
    ticket = order(
        alice_actor,
        "application",
        "新装",
        customer=urban_customer,
        resident_id="110101199003071233",
        dispatch=True,
    )
    client.force_login(alice)
    page = client.get(detail_url(ticket)).content.decode()
    assert "110101199003071233" not in page and "110101********1233" in page


def test_an_order_from_an_integration_client_shows_the_client_as_its_source(
    client, dave, urban_customer
):
    ticket = order(
        services.Actor(label="ivr"), "repair", "IVR 报修", customer=urban_customer, channel="ivr"
    )
    client.force_login(dave)
    page = client.get(detail_url(ticket)).content.decode()
    assert page.count("ivr") >= 2  # the owner field and the timeline
