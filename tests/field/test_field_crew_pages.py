"""The crew pages for a phone: my unit's orders nearest deadline first, and each step of a
repair (accept, arrival on site, the result) through the services the API calls.

Bob is on the urban crew; the rural crew's orders are not his (404, never 403).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from order_cast import take_order

from tickets import services
from tickets.models import Status, TicketEvent

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
CREW_ORDERS = reverse("field:crew_orders")


def zh(message: str) -> str:
    """A message as the Chinese page shows it (its catalogue entry once compiled)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def error_on(page: str, field: str) -> str:
    """The text of the error message under one field of the page."""
    start = page.index(f'id="err-{field}"')
    return page[page.index(">", start) + 1 : page.index("</span>", start)]


def bj(year, month, day, hour=0, minute=0):
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


def repair(actor, customer, *, now=None, **extra):
    return take_order(
        category="repair",
        caller_phone=customer.phones.get().number,
        description="家里没电",
        customer=customer,
        dispatch=True,
        now=now,
        actor=actor,
        **extra,
    )


def order_url(ticket):
    return reverse("field:crew_order", args=[ticket.number])


def step_url(ticket, action):
    return reverse("field:crew_action", args=[ticket.number, action])


RESULT = {
    "cause": "进户线保险丝熔断",
    "work_done": "更换保险丝，恢复供电",
    "restored_at": "2025-06-03T10:50",
    "asset_owner": "utility",
    "paid": "free",
    "paid_override_reason": "",
}


# --- The list ---------------------------------------------------------------------------------


def test_a_crew_member_sees_the_units_orders_nearest_deadline_first(
    client, bob, alice_actor, urban_customer, rural_customer
):
    with time_machine.travel(bj(2025, 6, 3, 9, 0), tick=False):
        later = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 9, 0))  # due 09:40
        sooner = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 8, 50))  # due 09:30
        other_crew = repair(alice_actor, rural_customer, now=bj(2025, 6, 3, 8, 0))
        client.force_login(bob)
        page = client.get(CREW_ORDERS).content.decode()
    assert other_crew.number not in page
    assert page.index(sooner.number) < page.index(later.number)
    assert 'data-due="2025-06-03T09:30:00+08:00"' in page
    assert "到达现场" in page  # the arrival clock's name, in Chinese


def test_an_order_with_no_clock_running_comes_after_those_with_one(
    client, bob, alice_actor, urban_customer
):
    on_site = services.ticket_record_arrival(
        ticket=repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 8, 0)), actor=alice_actor
    )
    waiting = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 9, 0))
    assert on_site.deadlines == {}
    client.force_login(bob)
    page = client.get(CREW_ORDERS).content.decode()
    assert page.index(waiting.number) < page.index(on_site.number)


def test_the_crew_list_asks_the_same_number_of_queries_for_many_orders(
    client, bob, alice_actor, urban_customer, django_assert_num_queries
):
    repair(alice_actor, urban_customer)
    client.force_login(bob)
    with django_assert_num_queries(5) as few:
        client.get(CREW_ORDERS)
    for _ in range(6):
        repair(alice_actor, urban_customer)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(CREW_ORDERS).content.decode()
    assert page.count('data-timer="arrival"') == 7


def test_the_crew_list_is_one_column_with_no_inline_script(client, bob):
    client.force_login(bob)
    page = client.get(CREW_ORDERS).content.decode()
    assert 'name="viewport" content="width=device-width' in page
    assert "field/field.css" in page and "js/console.js" in page
    assert "<script>" not in page and "onclick" not in page
    assert zh("No open orders for your crew.") in page


# --- The order page and its steps ------------------------------------------------------------


def test_the_order_page_shows_the_customer_the_clock_and_the_first_step(
    client, bob, alice_actor, urban_customer, django_assert_num_queries
):
    ticket = repair(alice_actor, urban_customer)
    client.force_login(bob)
    with django_assert_num_queries(5):
        page = client.get(order_url(ticket)).content.decode()
    assert "张三" in page and "城东供电区幸福路001号" in page
    # The crew calls the customer: its unit's orders show the number in full, as a link.
    assert 'href="tel:13800000001"' in page
    assert step_url(ticket, "acknowledge") in page and step_url(ticket, "arrive") in page
    assert step_url(ticket, "contact") in page
    assert step_url(ticket, "handback") not in page  # not on site yet


def test_a_crew_member_accepts_contacts_arrives_and_hands_back_the_result(
    client, bob, alice_actor, urban_customer
):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        ticket = repair(alice_actor, urban_customer)
    client.force_login(bob)
    with time_machine.travel(bj(2025, 6, 3, 10, 2), tick=False):
        answer = client.post(step_url(ticket, "acknowledge"))
    assert answer.status_code == 302 and answer.url == order_url(ticket)
    with time_machine.travel(bj(2025, 6, 3, 10, 5), tick=False):
        assert client.post(step_url(ticket, "contact")).status_code == 302
    with time_machine.travel(bj(2025, 6, 3, 10, 30), tick=False):
        assert client.post(step_url(ticket, "arrive")).status_code == 302
        page = client.get(order_url(ticket)).content.decode()
    assert zh("Arrival on site recorded.") in page
    assert 'value="2025-06-03T10:30"' in page  # the restoration time starts at now
    with time_machine.travel(bj(2025, 6, 3, 11, 0), tick=False):
        assert client.post(step_url(ticket, "handback"), RESULT).status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.HANDED_BACK  # for the centre's check (回单审核)
    assert ticket.handler == bob
    assert ticket.contacted_at == bj(2025, 6, 3, 10, 5)
    assert ticket.acknowledged_at == bj(2025, 6, 3, 10, 2)
    assert ticket.arrived_at == bj(2025, 6, 3, 10, 30)
    assert ticket.restored_at == bj(2025, 6, 3, 10, 50)  # as typed, not when submitted
    assert (ticket.cause, ticket.work_done) == (RESULT["cause"], RESULT["work_done"])
    assert ticket.asset_owner == "utility" and ticket.is_paid is False
    actions = list(
        TicketEvent.objects.filter(ticket=ticket, actor=bob).values_list("action", flat=True)
    )
    assert actions == ["acknowledge", "contact", "arrive", "handback"]


def test_a_result_charging_a_utility_owned_repair_needs_a_reason_and_keeps_what_was_typed(
    client, bob, alice_actor, urban_customer
):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        ticket = services.ticket_record_arrival(
            ticket=repair(alice_actor, urban_customer), actor=alice_actor
        )
    client.force_login(bob)
    with time_machine.travel(bj(2025, 6, 3, 11, 0), tick=False):
        answer = client.post(step_url(ticket, "handback"), {**RESULT, "paid": "paid"})
    assert answer.status_code == 400
    page = answer.content.decode()
    reason = zh("Give the reason for charging otherwise than the asset owner implies.")
    assert error_on(page, "paid_override_reason") == reason
    assert error_on(page, "cause") == ""
    assert "进户线保险丝熔断" in page and "更换保险丝，恢复供电" in page  # kept
    assert re.search(r"<input[^>]*value=\"paid\"[^>]*checked", page)
    ticket.refresh_from_db()
    assert ticket.status == Status.ON_SITE and ticket.cause == ""
    # With the reason, the charge stands.
    with time_machine.travel(bj(2025, 6, 3, 11, 0), tick=False):
        answer = client.post(
            step_url(ticket, "handback"),
            {**RESULT, "paid": "paid", "paid_override_reason": "客户要求更换户内开关"},
        )
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert ticket.is_paid is True and ticket.paid_override_reason == "客户要求更换户内开关"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cause", "", "Say what caused the fault."),
        ("work_done", "  ", "Say what was done."),
        ("restored_at", "2025-06-03T12:00", "Power cannot have come back later than now."),
        ("restored_at", "2025-06-02T12:00", "Power cannot have come back before the call."),
        ("restored_at", "昨天", "Give the time as date and hour:minute."),
        ("asset_owner", "", "Choose who owns the faulty equipment."),
    ],
)
def test_a_result_with_a_field_wrong_says_so_on_that_field_and_changes_nothing(
    client, bob, alice_actor, urban_customer, field, value, message
):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        ticket = services.ticket_record_arrival(
            ticket=repair(alice_actor, urban_customer), actor=alice_actor
        )
    client.force_login(bob)
    with time_machine.travel(bj(2025, 6, 3, 11, 0), tick=False):
        answer = client.post(step_url(ticket, "handback"), {**RESULT, field: value})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert error_on(page, field) == zh(message)
    assert RESULT["cause"] in page or field == "cause"  # what was typed is kept
    ticket.refresh_from_db()
    assert ticket.status == Status.ON_SITE


def test_power_not_back_yet_leaves_the_restoration_time_empty(
    client, bob, alice_actor, urban_customer
):
    ticket = services.ticket_record_arrival(
        ticket=repair(alice_actor, urban_customer), actor=alice_actor
    )
    client.force_login(bob)
    answer = client.post(step_url(ticket, "handback"), {**RESULT, "restored_at": ""})
    assert answer.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.HANDED_BACK and ticket.restored_at is None


def test_a_step_the_state_refuses_answers_409_and_changes_nothing(
    client, bob, alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer)
    client.force_login(bob)
    answer = client.post(step_url(ticket, "handback"), RESULT)  # not on site yet
    assert answer.status_code == 409
    assert zh("This step is not open to you for the order in its current state.") in (
        answer.content.decode()
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.DISPATCHED


# --- Only my unit's orders --------------------------------------------------------------------


def test_another_crews_order_answers_404_on_every_crew_page(
    client, bob, alice_actor, rural_customer
):
    other = repair(alice_actor, rural_customer)
    client.force_login(bob)
    assert client.get(order_url(other)).status_code == 404
    for action in ("acknowledge", "contact", "arrive", "handback"):
        assert client.post(step_url(other, action), RESULT).status_code == 404, action
    other.refresh_from_db()
    assert other.status == Status.DISPATCHED and other.acknowledged_at is None
    assert client.get(reverse("field:crew_order", args=["20250603nosuch"])).status_code == 404


def test_a_supervisor_sees_on_the_crew_pages_only_the_units_he_is_a_member_of(
    client, dave, alice_actor, urban_customer, urban_crew
):
    ticket = repair(alice_actor, urban_customer)
    client.force_login(dave)  # supervises the urban crew, is not a member
    assert ticket.number not in client.get(CREW_ORDERS).content.decode()
    assert client.get(order_url(ticket)).status_code == 404
    urban_crew.members.add(dave)
    assert client.get(order_url(ticket)).status_code == 200


def test_a_department_handler_does_not_open_the_crew_pages(client, carol):
    client.force_login(carol)
    assert client.get(CREW_ORDERS).status_code == 403


def test_the_page_and_the_api_record_the_same_result(client, bob, alice_actor, urban_customer):
    with time_machine.travel(bj(2025, 6, 3, 10, 0), tick=False):
        by_page, by_api = (
            services.ticket_record_arrival(
                ticket=repair(alice_actor, urban_customer), actor=alice_actor
            )
            for _ in range(2)
        )
    client.force_login(bob)
    with time_machine.travel(bj(2025, 6, 3, 11, 0), tick=False):
        assert client.post(step_url(by_page, "handback"), RESULT).status_code == 302
        answer = client.post(
            reverse("api_v1:ticket-handback", args=[by_api.number]),
            {"cause": RESULT["cause"], "work_done": RESULT["work_done"]},
            content_type="application/json",
        )
    assert answer.status_code == 200
    page_event = TicketEvent.objects.get(ticket=by_page, action="handback")
    api_event = TicketEvent.objects.get(ticket=by_api, action="handback")
    assert (page_event.from_status, page_event.to_status) == (
        api_event.from_status,
        api_event.to_status,
    )
    assert page_event.actor == api_event.actor == bob
