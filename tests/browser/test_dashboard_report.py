"""The period report in a real headless Chromium: charts drawn, filters change the figures,
and the XLSX download holds exactly the numbers on the page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from order_cast import take_order
from playwright.sync_api import expect

from tickets import services
from tickets.models import Satisfaction

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def morning(
    alice, bob, carol, urban_customer, rural_customer, urban_crew, rural_crew, service_department
):
    """A few hours of work earlier today, through the same services the pages use."""
    start = timezone.localtime().replace(hour=0, minute=30, second=0, microsecond=0)
    agent, crew = services.Actor(user=alice), services.Actor(user=bob)
    for i, (customer, category, wait) in enumerate(
        [
            (urban_customer, "repair", 5),
            (rural_customer, "repair", 12),
            (urban_customer, "complaint", 30),
            (urban_customer, "inquiry", 8),
            (rural_customer, "repair", 15),
        ]
    ):
        at = start + timedelta(hours=i)
        services.call_event_handle(
            call_id=f"R-{i}",
            event="ring",
            at=at,
            caller_phone="1380000000" + str(i),
            agent_username="alice",
        )
        services.call_event_handle(
            call_id=f"R-{i}", event="answer", at=at + timedelta(seconds=wait)
        )
        extra = {"party": "营业厅"} if category == "complaint" else {}
        if category == "inquiry":
            extra = {"answer_on_call": True, "reply": "电费可在网上国网缴纳"}
        ticket = take_order(
            category=category,
            caller_phone=customer.phones.first().number,
            description="测试",
            customer=customer,
            call_id=f"R-{i}",
            **extra,
            actor=agent,
            now=at + timedelta(seconds=60),
        )
        services.call_event_handle(call_id=f"R-{i}", event="hangup", at=at + timedelta(seconds=90))
        if category == "repair":
            services.ticket_dispatch(ticket=ticket, actor=agent, now=at + timedelta(minutes=2))
            services.ticket_record_arrival(
                ticket=ticket, actor=crew, now=at + timedelta(minutes=30 + 40 * i)
            )
            services.ticket_resolve(
                ticket=ticket,
                actor=crew,
                cause="熔断器熔断",
                work_done="更换",
                now=at + timedelta(minutes=50 + 40 * i),
            )
            # Handed back (回单); the agent who took the call accepts it.
            services.ticket_check_accept(
                ticket=ticket, actor=agent, now=at + timedelta(minutes=60 + 40 * i)
            )
            services.ticket_visit(
                ticket=ticket,
                actor=agent,
                now=at + timedelta(minutes=80 + 40 * i),
                satisfaction=Satisfaction.SATISFIED if i < 4 else Satisfaction.NEUTRAL,
            )
    services.call_event_handle(
        call_id="R-gone", event="ring", at=start + timedelta(hours=6), caller_phone="13900000077"
    )
    services.call_event_handle(
        call_id="R-gone", event="hangup", at=start + timedelta(hours=6, seconds=40)
    )
    return start


def same(value) -> str:
    """A number as the spreadsheet stores it (30.0 and 30 are one number), a blank as the page's dash."""
    if value in (None, "", "—"):
        return "—"
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return str(value)


def test_the_report_draws_its_charts(page, login, dave, morning, shot):
    login(page, dave)
    page.goto("/dashboard/report/")
    charts = page.locator("#charts svg.chart")
    expect(charts).to_have_count(5)
    assert page.locator("#charts svg.chart-bars rect.bar").count() >= 5
    assert page.locator("#charts svg.chart-line circle.point").count() >= 2
    assert page.locator("#charts svg.chart-percent rect.bar").count() >= 1
    box = charts.first.bounding_box()
    assert box["width"] > 300 and box["height"] > 100
    shot(page)


def test_changing_a_filter_changes_the_figures(page, login, dave, morning, shot):
    login(page, dave)
    page.goto("/dashboard/report/")
    expect(page.locator("#kpi-orders .kpi-value")).to_have_text("5")
    page.select_option("#id_category", "repair")  # the form submits itself on change
    expect(page.locator("#kpi-orders .kpi-value")).to_have_text("3")
    assert "category=repair" in page.url
    page.select_option("#id_category", "complaint")
    expect(page.locator("#kpi-orders .kpi-value")).to_have_text("1")
    expect(page.locator("#kpi-arrival .kpi-value")).to_have_text("—")
    shot(page)


def test_the_xlsx_export_holds_the_numbers_on_the_page(page, login, dave, morning, tmp_path):
    login(page, dave)
    page.goto("/dashboard/report/")
    on_page = {}
    for row in page.locator("#table-summary tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("td").all()]
        on_page[cells[0]] = cells[1:]
    assert on_page["受理工单数"][0] == "5"
    with page.expect_download() as download:
        page.click("#export-all-xlsx")
    path = tmp_path / "report.xlsx"
    download.value.save_as(path)
    workbook = load_workbook(path)
    summary = workbook[workbook.sheetnames[0]]
    assert [c.value for c in summary[1]] == ["指标", "数值", "数量"]
    in_file = {
        row[0]: [same(v) for v in row[1:]] for row in summary.iter_rows(min_row=2, values_only=True)
    }
    assert in_file == {name: [same(v) for v in values] for name, values in on_page.items()}
    hourly = workbook[workbook.sheetnames[1]]
    assert hourly["A1"].value == "时段"
