"""The supervisors' pages: who may see them, what they show, drill-downs, exports, acknowledging."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from dashboard_day import BJ, DAY_END, DAY_START, NOW, make_ticket, make_timer
from django.urls import reverse
from openpyxl import load_workbook

from dashboard import selectors
from dashboard.metrics.basics import Thresholds, scope_build
from dashboard.metrics.figures import period_metrics
from sla.models import Breach
from sla.selectors import answer_limit
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db

REPORT_DAY = {"start": "2024-03-04", "end": "2024-03-04"}


@pytest.fixture
def supervisor(client, dave):
    client.force_login(dave)
    return client


def _breach(ticket, timer, *, recorded):
    return Breach.objects.create(
        ticket=ticket,
        timer=timer,
        name=timer.name,
        occurred_at=timer.due_at,
        recorded_at=recorded,
        category=ticket.category,
        area_type=ticket.area_type,
        handling_unit=ticket.handling_unit,
        owner=ticket.owner,
    )


@pytest.mark.parametrize(
    "url",
    [
        "dashboard:wallboard",
        "dashboard:wallboard_live",
        "dashboard:breaches",
        "dashboard:estimated",
        "dashboard:report",
    ],
)
def test_an_agent_or_a_crew_member_gets_403_and_a_visitor_the_login(client, alice, bob, url):
    assert client.get(reverse(url)).status_code == 302
    for user in (alice, bob):
        client.force_login(user)
        assert client.get(reverse(url)).status_code == 403


def test_an_administrator_sees_the_wallboard(client, erin):
    client.force_login(erin)
    assert client.get(reverse("dashboard:wallboard")).status_code == 200


@time_machine.travel(NOW, tick=False)
def test_the_live_fragment_shows_waiting_calls_timers_at_risk_and_unacknowledged_breaches(
    supervisor, day, django_assert_max_num_queries
):
    t3 = day.tickets["T3"]
    breach = _breach(t3, t3.timers.get(name="arrival"), recorded=BJ(11, 29, 33))
    answer_limit(at=NOW)  # the rules are in memory on a running server
    # 12, one for the outages whose reporting is overdue, one for the unrouted orders.
    with django_assert_max_num_queries(14):
        response = supervisor.get(reverse("dashboard:wallboard_live"))
    html = response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert f'data-breach-id="{breach.pk}"' in html
    # c7 rings at 23:59:50, after NOW: the only call ringing with no answer and no hang-up.
    assert 'id="tile-waiting"' in html
    snapshot = selectors.wallboard_snapshot(now=NOW)
    assert snapshot["calls_waiting"] == 1
    # T9's arrival timer is past due and still running; T10's is not yet at risk at 17:00.
    assert snapshot["breached"] == 1 and snapshot["at_risk"] == 0
    assert [t.ticket.number for t in snapshot["attention"]] == [day.tickets["T9"].number]


@time_machine.travel(NOW, tick=False)
def test_supervised_and_hastened_orders_come_first(day, urban_crew, alice):
    quiet = make_ticket(
        "quiet",
        "repair",
        BJ(16, 30),
        owner=alice,
        handling_unit=urban_crew,
        dispatched_at=BJ(16, 30),
        status="dispatched",
    )
    loud = make_ticket(
        "loud",
        "repair",
        BJ(16, 31),
        owner=alice,
        handling_unit=urban_crew,
        call_count=3,
        dispatched_at=BJ(16, 31),
        status="dispatched",
    )
    watched = make_ticket(
        "watched",
        "repair",
        BJ(16, 32),
        owner=alice,
        handling_unit=urban_crew,
        supervised=True,
        dispatched_at=BJ(16, 32),
        status="dispatched",
    )
    for ticket in (quiet, loud, watched):
        make_timer(
            ticket, "arrival", ticket.dispatched_at, 20
        )  # at risk from 16:46-16:48, due 16:50-16:52
    snapshot = selectors.wallboard_snapshot(now=NOW)
    numbers = [t.ticket.number for t in snapshot["attention"]]
    # Then by due time: T9 (due 15:42) before the quiet one (due 16:50).
    assert numbers == [watched.number, loud.number, day.tickets["T9"].number, quiet.number]
    assert [o.number for o in snapshot["supervised"]] == [watched.number, loud.number]


def test_the_report_shows_the_figures_of_period_metrics(
    supervisor, day, django_assert_max_num_queries
):
    with django_assert_max_num_queries(30):
        response = supervisor.get(reverse("dashboard:report"), REPORT_DAY)
    html = response.content.decode()
    assert response.status_code == 200
    assert "40.00%" in html  # the service level of the day
    assert html.count("<svg") >= 5


def test_a_filter_changes_the_figures_on_the_page(supervisor, day):
    everything = supervisor.get(reverse("dashboard:report"), REPORT_DAY).context["m"]
    repairs = supervisor.get(
        reverse("dashboard:report"), {**REPORT_DAY, "category": "repair"}
    ).context["m"]
    assert everything["volumes"]["orders"] == 11 and repairs["volumes"]["orders"] == 7


def test_a_bad_period_is_refused_with_a_message(supervisor, day):
    response = supervisor.get(
        reverse("dashboard:report"), {"start": "2024-03-05", "end": "2024-03-04"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["start"]


DRILLS = [
    ("calls.offered", ("calls", "offered")),
    ("calls.answered", ("calls", "answered")),
    ("calls.within_threshold", ("calls", "within_threshold")),
    ("calls.abandoned", ("calls", "abandoned")),
    ("calls.short_abandoned", ("calls", "short_abandoned")),
    ("calls.waiting", ("calls", "waiting")),
    ("calls.first_contact_base", ("calls", "first_contact", "base")),
    ("calls.first_contact_repeated", ("calls", "first_contact", "repeated")),
    ("orders.all", ("volumes", "orders")),
    ("dispatch.all", ("dispatch", "count")),
    ("dispatch.beyond_target", ("dispatch", "beyond_target")),
    ("arrival.urban.on_time", ("arrival", "by_area_type", "urban", "on_time")),
    ("arrival.total.late", ("arrival", "total", "late")),
    ("arrival.total.all", ("arrival", "total", "total")),
    ("restoration.total.on_time", ("restoration", "total", "on_time")),
    ("reply.complaint.on_time", ("reply", "complaint", "on_time")),
    ("satisfaction.visited", ("satisfaction", "visited")),
    ("satisfaction.satisfied", ("satisfaction", "satisfied")),
    ("repairs.all", ("repairs", "orders")),
    ("repairs.faults", ("repairs", "faults")),
]


@pytest.mark.parametrize(("figure", "path"), DRILLS)
def test_every_figure_drills_down_to_exactly_the_rows_behind_it(day, figure, path):
    figures = period_metrics(start=DAY_START, end=DAY_END, now=NOW)
    expected = figures
    for key in path:
        expected = expected[key]
    scope = scope_build(start=DAY_START, end=DAY_END)
    found = selectors.drill_rows(figure, scope=scope, thresholds=Thresholds(), now=NOW)
    assert found.rows.count() == expected


def test_the_drill_down_page_lists_the_calls_and_links_the_orders(
    supervisor, day, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        response = supervisor.get(reverse("dashboard:drill", args=["calls.abandoned"]), REPORT_DAY)
    assert response.status_code == 200
    page = response.content.decode()
    # The table only: the page's random CSRF token may hold "c4" too.
    table = page[page.index("<table") : page.index("</table>")]
    assert "c6" in table and "c4" not in table
    orders = supervisor.get(reverse("dashboard:drill", args=["dispatch.beyond_target"]), REPORT_DAY)
    assert reverse("tickets:detail", args=[day.tickets["T2"].number]) in orders.content.decode()


def test_an_unknown_figure_is_404(supervisor, day):
    assert (
        supervisor.get(reverse("dashboard:drill", args=["nothing.here"]), REPORT_DAY).status_code
        == 404
    )


def test_the_csv_export_has_chinese_headers_and_the_page_numbers(supervisor, day):
    response = supervisor.get(
        reverse("dashboard:report"), {**REPORT_DAY, "format": "csv", "table": "summary"}
    )
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["指标", "数值", "数量"]
    service_level = next(row for row in rows if row[0].startswith("服务水平"))
    assert service_level[1:] == ["40.00%", "2"]


def test_the_xlsx_export_opens_and_holds_every_table(supervisor, day):
    response = supervisor.get(
        reverse("dashboard:report"), {**REPORT_DAY, "format": "xlsx", "table": "all"}
    )
    workbook = load_workbook(io.BytesIO(response.content))
    # The ten period tables, the per-unit returns (退单) and the two frequent-outage rankings.
    assert len(workbook.sheetnames) == 13
    summary = workbook[workbook.sheetnames[0]]
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=2, values_only=True)}
    assert values["受理工单数"] == 11


def test_a_drill_down_exports_as_xlsx(supervisor, day):
    response = supervisor.get(
        reverse("dashboard:drill", args=["orders.all"]), {**REPORT_DAY, "format": "xlsx"}
    )
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 12  # the header and the 11 orders
    assert sheet["A1"].value == "工单编号"


@time_machine.travel(NOW, tick=False)
def test_the_breach_list_filters_and_a_supervisor_acknowledges_with_a_comment_on_the_timeline(
    supervisor, day, dave, django_assert_max_num_queries
):
    t3, t4 = day.tickets["T3"], day.tickets["T4"]
    rural = _breach(t3, t3.timers.get(name="arrival"), recorded=BJ(11, 30))
    urban = _breach(t4, t4.timers.get(name="arrival"), recorded=BJ(9, 51))
    with django_assert_max_num_queries(12):
        page = supervisor.get(reverse("dashboard:breaches"), {"area_type": "rural"})
    assert [b.pk for b in page.context["page"]] == [rural.pk]
    assert page.context["page"][0].late_by == timedelta(
        minutes=30, seconds=30
    )  # 11:29:30 → stopped 12:00
    response = supervisor.post(
        reverse("dashboard:breach_acknowledge", args=[urban.pk]),
        {"comment": "班组已到场，路上堵车", "next": "/dashboard/breaches/"},
    )
    assert response.status_code == 302
    urban.refresh_from_db()
    assert urban.acknowledged_by == dave and urban.acknowledgement == "班组已到场，路上堵车"
    assert TicketEvent.objects.filter(ticket=t4, note="班组已到场，路上堵车").exists()
    open_only = supervisor.get(reverse("dashboard:breaches"), {"state": "open"})
    assert [b.pk for b in open_only.context["page"]] == [rural.pk]


def test_an_empty_comment_acknowledges_nothing(supervisor, day):
    t3 = day.tickets["T3"]
    breach = _breach(t3, t3.timers.get(name="arrival"), recorded=BJ(11, 30))
    supervisor.post(reverse("dashboard:breach_acknowledge", args=[breach.pk]), {"comment": " "})
    breach.refresh_from_db()
    assert breach.acknowledged_at is None


def test_the_breach_list_exports_as_csv(supervisor, day):
    t3 = day.tickets["T3"]
    _breach(t3, t3.timers.get(name="arrival"), recorded=BJ(11, 30))
    rows = list(
        csv.reader(
            io.StringIO(
                supervisor.get(reverse("dashboard:breaches"), {"format": "csv"}).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    assert rows[0][0] == "工单编号" and rows[1][0] == t3.number


def test_a_call_ringing_past_the_answer_limit_raises_the_alarm_on_the_wall(supervisor):
    from calls.models import Call

    now = BJ(10, 0, 0)
    Call.objects.create(
        call_id="late", caller_phone="13800000001", ring_at=now - timedelta(seconds=13)
    )
    Call.objects.create(
        call_id="fresh", caller_phone="13800000002", ring_at=now - timedelta(seconds=5)
    )
    Call.objects.create(
        call_id="answered",
        caller_phone="13800000003",
        ring_at=now - timedelta(seconds=40),
        answer_at=now - timedelta(seconds=30),
    )

    with time_machine.travel(now, tick=False):
        html = supervisor.get(reverse("dashboard:wallboard_live")).content.decode()
        snapshot = selectors.wallboard_snapshot(now=now)

    assert (snapshot["calls_waiting"], snapshot["calls_over_answer_limit"]) == (2, 1)
    assert "1 个来电振铃超过 12 秒未接" in html


def test_supervisors_see_the_running_deadlines_that_are_estimates_past_the_holiday_table(
    supervisor, day, django_assert_max_num_queries
):
    t9, t10 = day.tickets["T9"], day.tickets["T10"]
    t9.timers.filter(name="arrival").update(estimated=True)

    with django_assert_max_num_queries(8):
        html = supervisor.get(reverse("dashboard:estimated")).content.decode()

    assert "估算时限" in html and "按周一至周五估算" in html
    assert t9.number in html
    assert t10.number not in html
