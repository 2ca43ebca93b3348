"""The centre's check (回单审核) in a real headless Chromium: the agent who took the call finds
the handed-back repair on My orders, sends it back to the crew with a reason (退单), and
once the crew has handed it back again, accepts it — with the keyboard only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from servicedesk.actors import Actor
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _handed_back_repair(alice_actor, bob, urban_customer) -> Ticket:
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="家里没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )
    crew = Actor(user=bob)
    services.ticket_record_arrival(ticket=ticket, actor=crew)
    return services.ticket_handback(ticket=ticket, actor=crew, work_done="更换熔断器")


def test_the_owning_agent_returns_a_handed_back_order_and_then_accepts_it(
    page, login, alice, alice_actor, bob, urban_customer, shot
):
    ticket = _handed_back_repair(alice_actor, bob, urban_customer)
    login(page, alice)
    page.goto("/tickets/mine/")
    to_check = page.locator("#to-check")
    expect(to_check).to_contain_text(ticket.number)
    shot(page, "my-orders")

    page.click(f"#to-check a:text('{ticket.number}')")
    expect(page.locator(".status-badge")).to_have_class(re.compile(r"status-handed_back"))
    # A return without a reason is refused on its field and changes nothing.
    page.focus("#return-reason")
    page.keyboard.press("Enter")
    expect(page.locator("#err-return-reason")).not_to_be_empty()
    assert Ticket.objects.get(pk=ticket.pk).status == Status.HANDED_BACK
    shot(page, "reason-missing")

    page.focus("#return-reason")
    page.keyboard.type("未写明故障原因，请补充")
    page.keyboard.press("Enter")
    expect(page.locator(".status-badge")).to_have_class(re.compile(r"status-on_site"))
    expect(page.locator(".timeline")).to_contain_text("未写明故障原因，请补充")
    expect(page.locator("#return-count")).to_have_text("1")
    returned = Ticket.objects.get(pk=ticket.pk)
    assert (returned.status, returned.return_count) == (Status.ON_SITE, 1)
    shot(page, "returned")

    # The crew completes its result and hands it back again.
    services.ticket_handback(ticket=returned, actor=Actor(user=bob), cause="进户线熔断器老化")

    page.reload()
    expect(page.locator(".status-badge")).to_have_class(re.compile(r"status-handed_back"))
    expect(page.locator(".fields")).to_contain_text("进户线熔断器老化")
    page.focus(".action-accept_check button")
    page.keyboard.press("Enter")
    expect(page.locator(".status-badge")).to_have_class(re.compile(r"status-resolved"))
    accepted = Ticket.objects.get(pk=ticket.pk)
    assert accepted.status == Status.RESOLVED and accepted.resolved_at is not None
    assert list(accepted.events.values_list("action", flat=True))[-3:] == [
        "return_check",
        "handback",
        "accept_check",
    ]
    shot(page)
