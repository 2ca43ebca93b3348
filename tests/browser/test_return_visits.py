"""Return visits in a real headless Chromium: a dissatisfied visit reopens the order to its
unit, and the report's per-unit dissatisfaction count changes."""

from __future__ import annotations

import pytest
from order_cast import take_order
from playwright.sync_api import expect

from tickets import services
from tickets.models import Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resolved_repair(alice, bob, urban_customer, urban_crew):
    agent, crew = services.Actor(user=alice), services.Actor(user=bob)
    ticket = take_order(
        actor=agent,
        category="repair",
        caller_phone="13800000001",
        description="家里停电",
        customer=urban_customer,
        dispatch=True,
        handling_unit=urban_crew,
    )
    ticket = services.ticket_record_arrival(ticket=ticket, actor=crew)
    ticket = services.ticket_resolve(ticket=ticket, actor=crew, work_done="更换保险")
    # The crew hands back (回单); the agent who owns the order accepts it.
    return services.ticket_check_accept(ticket=ticket, actor=agent)


def _dissatisfied_count(page, unit_name: str) -> str:
    page.goto("/dashboard/report/")
    rows = page.locator("#table-visit_units tbody tr", has_text=unit_name)
    if rows.count() == 0:
        return "0"
    return rows.first.locator("td").nth(2).inner_text().strip()


def test_a_dissatisfied_return_visit_reopens_the_order_and_counts_against_its_unit(
    page, login, dave, resolved_repair, urban_crew, shot
):
    login(page, dave)
    assert _dissatisfied_count(page, urban_crew.name) == "0"
    shot(page, "report-before")

    page.goto("/visits/")
    row = page.locator("#visit-queue tr.visit-row", has_text=resolved_repair.number)
    expect(row).to_have_count(1)
    shot(page, "queue")
    row.get_by_role("link").click()
    page.check("input[name=satisfaction][value=dissatisfied]")
    page.click("#visit-record")
    # No reason chosen: the page asks for one and nothing changes.
    expect(page.locator("#visit-form .errorlist")).to_be_visible()
    assert Ticket.objects.get(pk=resolved_repair.pk).status == Status.RESOLVED
    page.check("input[name=satisfaction][value=dissatisfied]")
    page.select_option("#id_reason", "not-fixed")
    page.fill("#id_note", "客户反映仍然没电")
    shot(page, "form")
    page.click("#visit-record")
    expect(page.locator(".messages")).to_be_visible()
    expect(
        page.locator("#visit-queue tr.visit-row", has_text=resolved_repair.number)
    ).to_have_count(0)

    reopened = Ticket.objects.get(pk=resolved_repair.pk)
    assert reopened.status == Status.DISPATCHED
    assert reopened.handling_unit_id == urban_crew.pk and reopened.reopen_count == 1
    page.goto(f"/tickets/{reopened.number}/")
    expect(page.locator("body")).to_contain_text("客户反映仍然没电")

    assert _dissatisfied_count(page, urban_crew.name) == "1"
    shot(page, "report-after")
