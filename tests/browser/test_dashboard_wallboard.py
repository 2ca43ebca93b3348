"""The supervisor's wallboard in a real headless Chromium: it refreshes itself and shows a new
breach the moment the SLA scanner records it, without the page being reloaded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sla.checker import sla_check
from sla.models import Breach
from tickets import services
from tickets.intake import TicketDraft

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_breach_recorded_after_the_wallboard_opened_appears_highlighted_without_a_reload(
    page, login, dave, alice, urban_customer, urban_crew, shot
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="整栋楼停电",
            customer=urban_customer,
        ),
        actor=services.Actor(user=alice),
        dispatch=True,
    )
    login(page, dave)
    page.goto("/dashboard/")
    expect(page.locator("#tile-breached .tile-value")).to_have_text("0")
    expect(page.locator("[data-breach-id]")).to_have_count(0)
    page.evaluate("window.__openedOnce = true")
    shot(page, "before")

    # The arrival limit (urban: 40 min) runs out; the scanner, run with the clock an hour on, records it.
    result = sla_check(now=timezone.now() + timedelta(hours=1))
    assert result.breached >= 1
    breach = Breach.objects.get(ticket=ticket, name="arrival")

    row = page.locator(f'tr[data-breach-id="{breach.pk}"]')
    expect(row).to_be_visible(timeout=12_000)  # the page asks every 5 s
    expect(row).to_have_class("breach-row supervised breach-new")
    expect(row).to_contain_text(ticket.number)
    expect(page.locator("#new-breach-banner")).to_be_visible()
    assert page.evaluate("window.__openedOnce") is True  # the same page: not reloaded
    shot(page, "after")


def test_the_wallboard_switches_to_wall_mode_and_back(page, login, dave, shot):
    login(page, dave)
    page.goto("/dashboard/?wall=1")
    expect(page.locator("body")).to_have_class("dashboard wall")
    expect(page.locator(".topbar")).to_be_hidden()
    shot(page, "wall")
    page.goto("/dashboard/")
    expect(page.locator(".topbar")).to_be_visible()
    page.click("#fullscreen-toggle")
    expect(page.locator("body")).to_have_class("dashboard wall")


def test_an_agent_is_refused_the_wallboard(page, login, alice):
    login(page, alice)
    response = page.goto("/dashboard/")
    assert response.status == 403
