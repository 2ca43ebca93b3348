"""The notification badge in a real headless Chromium: a supervisor sees the count of new
breach notifications in the top bar and opens the list to the order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sla.checker import sla_check
from tickets import services
from tickets.intake import TicketDraft

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_supervisor_sees_new_breaches_on_the_badge_and_opens_the_order(
    page, login, dave, alice, urban_customer, shot
):
    taken = timezone.now() - timedelta(hours=1)
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="整栋楼停电",
            customer=urban_customer,
        ),
        actor=services.Actor(user=alice),
        dispatch=True,
        now=taken,
    )
    sla_check(now=timezone.now())

    login(page, dave)
    badge = page.locator("#sla-badge")
    expect(badge.locator(".sla-badge-count")).to_have_text("1")
    expect(badge).to_have_class("has-unread")
    badge.click()

    row = page.locator("table.sla-notifications tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"到达现场时限已超时：工单 {ticket.number}")
    shot(page, "list")
    page.get_by_role("button", name="全部标为已读").click()
    expect(page.locator("#sla-badge .sla-badge-count")).to_have_text("0")
    shot(page)
