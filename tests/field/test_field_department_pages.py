"""The department pages: my department's orders with their reply countdowns, and the reply
and how it was given, through the service the API calls.

Carol handles the customer-service department's complaints, tip-offs and inquiries.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from order_cast import take_order

from customers.models import HandlingUnit
from sla.models import TimerName
from tickets.models import (
    DEADLINE_NAMES,
    OPEN_STATUSES,
    UNIT_LIST_STATUSES,
    ReplyForm,
    Status,
    TicketEvent,
)

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
DEPARTMENT_ORDERS = reverse("field:department_orders")


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def bj(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def complaint(actor, *, category="complaint", unit=None, **extra):
    return take_order(
        category=category,
        caller_phone="13800000001",
        description="抢修人员态度差",
        party="城东供电所",
        dispatch=True,
        handling_unit=unit,
        actor=actor,
        **extra,
    )


def order_url(ticket):
    return reverse("field:department_order", args=[ticket.number])


def step_url(ticket, action):
    return reverse("field:department_action", args=[ticket.number, action])


def test_the_department_sees_its_complaints_and_tip_offs_with_their_reply_countdowns(
    client, carol, alice_actor, service_department
):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        report = complaint(alice_actor, category="report", now=bj(2025, 6, 1, 10, 0))
        complained = complaint(alice_actor, now=bj(2025, 6, 2, 10, 0))
        client.force_login(carol)
        page = client.get(DEPARTMENT_ORDERS).content.decode()
    # 5 calendar days for the complaint (06-07), 10 for the tip-off (06-11): nearest first.
    assert 'data-due="2025-06-07T10:00:00+08:00"' in page
    assert 'data-due="2025-06-11T10:00:00+08:00"' in page
    assert page.index(complained.number) < page.index(report.number)
    assert "答复" in page


def test_another_departments_order_is_not_there(client, carol, alice_actor, centre):
    elsewhere = HandlingUnit.objects.create(
        code="dept-audit", name="稽查部", kind=HandlingUnit.Kind.INSPECTION, parent=centre
    )
    other = complaint(alice_actor, category="report", unit=elsewhere)
    client.force_login(carol)
    assert other.number not in client.get(DEPARTMENT_ORDERS).content.decode()
    assert client.get(order_url(other)).status_code == 404
    body = {"reply": "已核实", "reply_form": "callback"}
    assert client.post(step_url(other, "handback"), body).status_code == 404
    other.refresh_from_db()
    assert other.reply == ""


def test_the_department_list_asks_the_same_number_of_queries_for_many_orders(
    client, carol, alice_actor, service_department, django_assert_num_queries
):
    complaint(alice_actor)
    client.force_login(carol)
    with django_assert_num_queries(5) as few:
        client.get(DEPARTMENT_ORDERS)
    for _ in range(5):
        complaint(alice_actor)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(DEPARTMENT_ORDERS).content.decode()
    assert page.count('data-timer="reply"') == 6


def test_the_department_replies_to_a_complaint_and_says_how(
    client, carol, alice_actor, service_department, django_assert_num_queries
):
    ticket = complaint(alice_actor)
    client.force_login(carol)
    with django_assert_num_queries(5):
        page = client.get(order_url(ticket)).content.decode()
    assert "城东供电所" in page and "抢修人员态度差" in page
    assert step_url(ticket, "acknowledge") in page and step_url(ticket, "handback") in page
    assert step_url(ticket, "reply") not in page  # the same move: one form
    assert client.post(step_url(ticket, "acknowledge")).status_code == 302
    answer = client.post(
        step_url(ticket, "handback"),
        {"reply": "已向客户致歉，对抢修人员进行了批评教育", "reply_form": "callback"},
    )
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.HANDED_BACK  # for the centre's check
    assert ticket.reply == "已向客户致歉，对抢修人员进行了批评教育"
    assert ticket.reply_form == ReplyForm.CALLBACK and ticket.replied_at is not None
    assert "reply" not in ticket.deadlines  # the reply clock stopped
    assert TicketEvent.objects.filter(ticket=ticket, action="handback", actor=carol).exists()
    page = client.get(order_url(ticket)).content.decode()
    assert zh("Reply recorded and handed back.") in page
    assert "已向客户致歉" in page[page.index('id="recorded"') :]
    assert step_url(ticket, "handback") not in page  # nothing left to do


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"reply": "", "reply_form": "sms"}, "reply", "Write the reply."),
        ({"reply": "已处理"}, "reply_form", "Choose how the reply was given."),
        ({"reply": "已处理", "reply_form": "on_call"}, "reply_form", None),
    ],
)
def test_a_reply_missing_something_says_so_on_its_field_and_keeps_what_was_typed(
    client, carol, alice_actor, service_department, body, field, message
):
    ticket = complaint(alice_actor)
    client.force_login(carol)
    answer = client.post(step_url(ticket, "handback"), body)
    assert answer.status_code == 400
    page = answer.content.decode()
    start = page.index(f'id="err-{field}"')
    error = page[page.index(">", start) + 1 : page.index("</span>", start)]
    assert error if message is None else error == zh(message)
    if body["reply"]:
        assert body["reply"] in page
    ticket.refresh_from_db()
    assert ticket.status == Status.DISPATCHED and ticket.reply == ""


def test_a_callback_inquiry_is_answered_with_a_reply_that_resolves_it(
    client, carol, alice_actor, service_department
):
    ticket = take_order(
        category="inquiry",
        caller_phone="13800000001",
        description="电费为何突然增加",
        reply_form="callback",
        dispatch=True,
        actor=alice_actor,
    )
    client.force_login(carol)
    page = client.get(order_url(ticket)).content.decode()
    assert step_url(ticket, "reply") in page and step_url(ticket, "handback") not in page
    body = {"reply": "已回电说明阶梯电价", "reply_form": "callback"}
    assert client.post(step_url(ticket, "reply"), body).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and ticket.reply == "已回电说明阶梯电价"


def test_a_crew_member_does_not_open_the_department_pages(client, bob):
    client.force_login(bob)
    assert client.get(DEPARTMENT_ORDERS).status_code == 403


def test_the_orders_keep_a_copy_of_every_clock_the_index_sorts_on():
    assert set(DEADLINE_NAMES) == set(TimerName.values)


def test_the_unit_lists_index_covers_every_open_state():
    assert set(UNIT_LIST_STATUSES) == set(OPEN_STATUSES)
