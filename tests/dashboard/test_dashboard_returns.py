"""The centre's returns (退单) per handling unit in the period report: counted against the
unit whose result was sent back, shown on the page and in its exports."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from order_cast import take_order

from dashboard.metrics.figures import period_metrics
from servicedesk.actors import Actor
from tickets import services

BEIJING = ZoneInfo("Asia/Shanghai")
DAY_START = datetime(2026, 11, 27, tzinfo=BEIJING)
DAY_END = DAY_START + timedelta(days=1)
AT = datetime(2026, 11, 27, 10, 0, tzinfo=BEIJING)
REPORT_DAY = {"start": "2026-11-27", "end": "2026-11-27"}


def _handed_back(customer, *, actor, crew, at, returns: int):
    order = take_order(
        category="repair",
        caller_phone=customer.phones.get().number,
        description="一户无电",
        customer=customer,
        dispatch=True,
        actor=actor,
        now=at,
    )
    order = services.ticket_record_arrival(ticket=order, actor=crew, now=at)
    order = services.ticket_handback(ticket=order, actor=crew, cause="熔断", now=at)
    for n in range(returns):
        services.ticket_check_return(ticket=order, actor=actor, reason=f"第{n + 1}次退回", now=at)
        order = services.ticket_handback(ticket=order, actor=crew, work_done="已更换", now=at)
    return order


@pytest.fixture
def returns(alice_actor, bob, urban_customer, rural_customer, rural_crew):
    crew = Actor(user=bob)
    twice = _handed_back(urban_customer, actor=alice_actor, crew=crew, at=AT, returns=2)
    _handed_back(rural_customer, actor=alice_actor, crew=crew, at=AT, returns=1)
    _handed_back(urban_customer, actor=alice_actor, crew=crew, at=AT, returns=0)
    # Accepted the day before: outside the period.
    _handed_back(urban_customer, actor=alice_actor, crew=crew, at=AT - timedelta(days=1), returns=1)
    return twice


@pytest.mark.django_db
def test_returns_are_counted_per_unit_over_the_periods_orders(returns):
    figures = period_metrics(start=DAY_START, end=DAY_END, now=AT + timedelta(hours=1))

    assert figures["by_unit"] == [
        {"unit": "crew-urban", "label": "城区抢修一班", "returned": 2},
        {"unit": "crew-rural", "label": "城郊供电所抢修班", "returned": 1},
    ]


@pytest.mark.django_db
def test_a_return_counts_against_the_unit_it_came_from_after_a_redispatch(
    returns, alice_actor, carol, service_department, remote_crew
):
    complaint = take_order(
        category="complaint",
        caller_phone="13800000001",
        description="营业厅排队太久",
        party="营业厅",
        dispatch=True,
        handling_unit=service_department,
        actor=alice_actor,
        now=AT,
    )
    department = Actor(user=carol)
    services.ticket_handback(ticket=complaint, actor=department, reply="已致歉", now=AT)
    services.ticket_check_return(ticket=complaint, actor=alice_actor, reason="答复不完整", now=AT)
    moved = services.ticket_redispatch(
        ticket=complaint, actor=department, unit=remote_crew, reason="不属本部门", now=AT
    )

    figures = period_metrics(start=DAY_START, end=DAY_END, now=AT + timedelta(hours=1))

    assert moved.handling_unit == remote_crew and moved.return_count == 1
    assert {row["unit"]: row["returned"] for row in figures["by_unit"]} == {
        "crew-urban": 2,
        "crew-rural": 1,
        "dept-service": 1,
    }


@pytest.mark.django_db
def test_the_unit_filter_keeps_the_returns_of_that_units_orders(returns):
    figures = period_metrics(
        start=DAY_START, end=DAY_END, unit="crew-rural", now=AT + timedelta(hours=1)
    )

    assert figures["by_unit"] == [
        {"unit": "crew-rural", "label": "城郊供电所抢修班", "returned": 1}
    ]


@pytest.mark.django_db
def test_the_report_page_shows_the_returned_column_per_unit_and_exports_it(
    client, dave, returns, django_assert_max_num_queries
):
    client.force_login(dave)
    with django_assert_max_num_queries(32):
        response = client.get(reverse("dashboard:report"), REPORT_DAY)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="table-units"' in html
    assert "退单" in html.split('id="table-units"')[1].split("</section>")[0]
    table = html.split('id="table-units"')[1].split("</section>")[0]
    assert "城区抢修一班" in table and ">2<" in table

    csv = client.get(reverse("dashboard:report"), {**REPORT_DAY, "format": "csv", "table": "units"})
    assert csv.status_code == 200
    text = csv.content.decode("utf-8-sig")
    assert "城区抢修一班,2" in text and "城郊供电所抢修班,1" in text
