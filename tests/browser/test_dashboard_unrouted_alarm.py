"""The wallboard's unrouted-orders alarm in a real headless Chromium: it appears without a
reload when an order is taken that no routing rule and no fallback unit receives, and goes
once a supervisor's dispatch gives it a unit."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from tickets import services
from tickets.intake import TicketDraft

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_an_unrouted_order_raises_the_alarm_on_the_open_wallboard_and_dispatch_clears_it(
    page, login, alice, centre, shot
):
    # A supervisor of no unit (dave's department would receive complaints).
    helen = User.objects.create_user(username="helen", password="pass-helen")
    helen.groups.add(Group.objects.get(name="supervisor"))
    login(page, helen)
    page.goto("/dashboard/")
    expect(page.locator("#tile-unrouted .tile-value")).to_have_text("0")
    expect(page.locator("#unrouted-alarm")).to_have_count(0)
    page.evaluate("window.__openedOnce = true")

    agent = services.Actor(user=alice)
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="complaint",
            caller_phone="13800000001",
            description="营业厅服务态度差",
            party="城东营业厅",
        ),
        actor=agent,
        dispatch=True,
    )
    alarm = page.locator("#unrouted-alarm")
    expect(alarm).to_be_visible(timeout=12_000)  # the page asks every 5 s
    expect(alarm).to_contain_text(ticket.number)
    expect(page.locator("#tile-unrouted .tile-value")).to_have_text("1")
    shot(page, "alarm")

    services.ticket_dispatch(ticket=ticket, actor=agent, unit=centre)
    expect(alarm).to_have_count(0, timeout=12_000)
    expect(page.locator("#tile-unrouted .tile-value")).to_have_text("0")
    assert page.evaluate("window.__openedOnce") is True  # the same page: not reloaded
    shot(page, "cleared")
