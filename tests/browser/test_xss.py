"""Script in what callers say or what the customer file holds is shown as text, never run.

A description, a customer's name and an address carry `<script>` and `"><img src=x onerror=…>`
payloads; each payload sets `window.__xss` if it ever runs. The agent's order page and
console (server-rendered and swapped in by the console's script) and the supervisor's
drill-down show them literally, the pages carry the Content-Security-Policy header, and the
CSV export of the same order holds the text with its formulas neutralised.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone
from order_cast import take_order
from playwright.sync_api import expect

from customers.models import Customer, CustomerPhone
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESCRIPTION = "<script>window.__xss = 'description'</script>家里没电"
NAME = '=1+1"><img src=x onerror="window.__xss=\'name\'">张三'
ADDRESS = "@SUM(1)\"><img src=x onerror=window.__xss='address'><script>window.__xss='addr'</script>"
PHONE = "13800000077"


@pytest.fixture
def hostile_order(alice, urban_area, urban_crew):
    customer = Customer.objects.create(
        account_number="3100000077", name=NAME, address=ADDRESS, service_area=urban_area
    )
    CustomerPhone.objects.create(customer=customer, number=PHONE, is_primary=True)
    return take_order(
        category="repair",
        caller_phone=PHONE,
        description=DESCRIPTION,
        customer=customer,
        address=ADDRESS,
        dispatch=True,
        actor=services.Actor(user=alice),
    )


def nothing_ran(page) -> None:
    page.wait_for_load_state("networkidle")  # a broken image's onerror would have fired
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src=x]").count() == 0  # no element was made from the payloads
    assert page.locator("script", has_text="__xss").count() == 0


def test_payloads_in_an_order_are_shown_as_text_and_nothing_runs(
    page, login, alice, dave, hostile_order, shot
):
    login(page, alice)
    response = page.goto(f"/tickets/{hostile_order.number}/")
    assert "script-src" in response.headers["content-security-policy"]
    fields = page.locator("dl.fields")
    expect(fields).to_contain_text(DESCRIPTION)
    expect(fields).to_contain_text(NAME)
    expect(fields).to_contain_text(ADDRESS)
    nothing_ran(page)
    shot(page, "order")

    # The console: the caller's card as the server draws it, then as the script swaps it in.
    page.goto(f"/tickets/intake/?phone={PHONE}")
    card = page.locator("#customer-card")
    expect(card).to_contain_text(NAME)
    expect(card).to_contain_text(ADDRESS)
    nothing_ran(page)
    page.goto("/tickets/intake/")
    page.fill("#id_caller_phone", PHONE)
    page.keyboard.press("Enter")
    expect(page.locator("#customer-card")).to_contain_text(NAME)
    expect(page.locator(".open-orders")).to_contain_text("<script>window.__xss")
    nothing_ran(page)
    shot(page, "console")


def test_the_supervisors_drill_down_shows_them_as_text_and_its_export_neutralises_them(
    page, login, dave, hostile_order, tmp_path
):
    login(page, dave)
    today = timezone.localdate().isoformat()
    response = page.goto(f"/dashboard/report/drill/orders.all/?start={today}&end={today}")
    assert "script-src" in response.headers["content-security-policy"]
    table = page.locator("table.grid")
    expect(table).to_contain_text(DESCRIPTION)
    expect(table).to_contain_text(NAME)
    expect(table).to_contain_text(ADDRESS)
    expect(table).to_contain_text("138****0077")
    nothing_ran(page)

    with page.expect_download() as download:
        page.click("text=CSV")
    path = tmp_path / "drill.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    row = next(r for r in rows[1:] if r and r[0] == hostile_order.number)
    assert row[-4:] == ["'" + NAME, "138****0077", "'" + ADDRESS, DESCRIPTION]
