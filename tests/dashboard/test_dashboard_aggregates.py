"""The period report's stored per-day aggregates give exactly the figures the raw rows give,
also after a late change to a closed day once the refresh pass has run.

The hand-made day of conftest.py (Monday 4 March 2024). The clock is held still from the
start of each test (time-machine), so every row's `updated_at` is a moment of the story,
not of the machine running the tests.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine
from dashboard_day import BJ, DAY_END, DAY_START, NOW, make_call, make_ticket
from django.conf import settings
from django.core.management import call_command

from dashboard.metrics.basics import Thresholds, dispatch_bucket, nearest_rank, nearest_rank_counted
from dashboard.metrics.figures import period_metrics
from dashboard.models import AggregateDay, CallHour, DispatchBucket, MetricSettings, OrderDay
from dashboard.services import aggregates_build, aggregates_refresh
from dashboard.tasks import aggregates_refresh_task
from servicedesk.celery import app
from sla.checker import sla_check
from tickets import services

pytestmark = pytest.mark.django_db

MARCH_4 = date(2024, 3, 4)
AFTER = BJ(1, day=5)  # the day is over


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(BJ(8), tick=False) as traveller:
        yield traveller


def both(now: datetime, start=DAY_START, end=DAY_END, **filters) -> tuple[dict, dict]:
    """The figures from the stored days (where built) and from the raw rows alone."""
    stored = period_metrics(start=start, end=end, now=now, **filters)
    raw = period_metrics(start=start, end=end, now=now, use_stored=False, **filters)
    return stored, raw


def figures_only(m: dict) -> dict:
    return {k: v for k, v in m.items() if k != "sources"}


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"category": "repair"},
        {"category": "complaint"},
        {"agent": "gina"},
        {"agent": "alice", "category": "repair"},
        {"unit": "crew-urban"},
        {"area_type": "rural"},
        {"unit": "no-such-unit"},
    ],
)
def test_a_stored_day_gives_the_figures_of_the_raw_rows(day, _clock, filters):
    _clock.move_to(AFTER)
    aggregates_build(days=[MARCH_4], now=AFTER)
    stored, raw = both(AFTER, **filters)
    assert figures_only(stored) == figures_only(raw)
    if "unit" not in filters or filters["unit"] != "no-such-unit":
        assert stored["sources"] == {
            "stored_days": 1,
            "stored_as_of": AFTER.isoformat(),
            "computed_from_rows": [],
        }


def test_the_stored_day_holds_the_hand_worked_figures(day, _clock):
    _clock.move_to(AFTER)
    aggregates_build(days=[MARCH_4], now=AFTER)
    m = period_metrics(start=DAY_START, end=DAY_END, now=AFTER)
    assert m["sources"]["stored_days"] == 1
    assert m["calls"]["service_level"] == 40.0
    assert m["calls"]["first_contact"] == {"base": 4, "repeated": 2, "resolved": 2, "rate": 50.0}
    assert m["dispatch"]["count"] == 7 and m["dispatch"]["p95_seconds"] == 300.0
    assert m["dispatch"]["average_seconds"] == round(780 / 7, 1)
    assert m["satisfaction"]["visited"] == 4 and m["satisfaction"]["rate"] == 50.0
    assert m["repairs"]["faults"] == 5
    assert m["repairs"]["repeat_by_feeder"] == [{"feeder": "F1", "faults": 3}]
    # T10's remote arrival (due 18:01) ran on past its due time: late by the clock alone.
    assert m["arrival"]["by_area_type"]["remote"]["late"] == 1


def test_a_period_of_stored_days_days_never_built_and_today_adds_up_like_the_raw_rows(day, _clock):
    now = BJ(10, day=5)
    _clock.move_to(now)
    aggregates_build(days=[date(2024, 3, 3), MARCH_4, date(2024, 3, 5)], now=now)
    AggregateDay.objects.filter(day=date(2024, 3, 3), part="calls").delete()
    stored, raw = both(now, start=BJ(0, day=2), end=BJ(0, day=7))
    assert figures_only(stored) == figures_only(raw)
    assert stored["calls"]["offered"] == 11  # c8 the day before, c10 and c11 the day after
    assert stored["sources"]["stored_days"] == 3
    # The day never built, today after the pass and the day not yet begun come from the rows.
    assert stored["sources"]["computed_from_rows"] == [
        {"start": BJ(0, day=2).isoformat(), "end": BJ(0, day=3).isoformat()},
        {"start": now.isoformat(), "end": BJ(0, day=7).isoformat()},
    ]


def test_today_adds_what_came_in_since_the_last_pass(day, _clock, alice):
    _clock.move_to(NOW)
    aggregates_build(days=[MARCH_4], now=NOW)
    _clock.move_to(BJ(17, 30))
    make_ticket("late", "inquiry", BJ(17, 30), owner=alice, resolved_at=BJ(17, 30))
    make_call("c12", "13900000008", BJ(17, 40), answer=3, hangup=30, agent=alice)
    stored, raw = both(BJ(18))
    assert figures_only(stored) == figures_only(raw)
    assert stored["volumes"]["orders"] == 12 and stored["calls"]["offered"] == 9
    assert stored["sources"]["computed_from_rows"] == [
        {"start": NOW.isoformat(), "end": DAY_END.isoformat()}
    ]


def test_a_return_visit_recorded_days_later_reaches_the_satisfaction_figure_after_the_next_pass(
    day, _clock, dave
):
    _clock.move_to(AFTER)
    first = aggregates_refresh(now=AFTER)
    assert MARCH_4 in first.orders_days  # a recent day never built
    assert period_metrics(start=DAY_START, end=DAY_END, now=AFTER)["satisfaction"]["visited"] == 4

    later = BJ(10, day=8)
    _clock.move_to(later)
    services.ticket_visit(
        ticket=day.tickets["T6"],
        actor=services.Actor(user=dave),
        satisfaction="satisfied",
        now=later,
    )
    stale, raw = both(later)
    assert stale["satisfaction"]["visited"] == 4  # until the next pass
    assert raw["satisfaction"]["visited"] == 5

    _clock.move_to(later + timedelta(minutes=1))
    second = aggregates_refresh(now=later + timedelta(minutes=1))
    assert MARCH_4 in second.orders_days
    stored, raw = both(later + timedelta(minutes=1))
    assert figures_only(stored) == figures_only(raw)
    assert stored["satisfaction"] == raw["satisfaction"]
    assert stored["satisfaction"]["visited"] == 5 and stored["satisfaction"]["satisfied"] == 3
    assert stored["sources"]["stored_days"] == 1


def test_a_breach_the_scanner_records_later_stays_late_after_the_next_pass(day, _clock):
    _clock.move_to(AFTER)
    aggregates_refresh(now=AFTER)
    before, _raw = both(AFTER)
    # T9 (urban, due 15:42) and T10 (remote, due 18:01) are running past due: late by the clock.
    assert before["arrival"]["total"] == {"total": 4, "on_time": 1, "late": 3, "rate": 25.0}

    scan_at = AFTER + timedelta(minutes=1)
    _clock.move_to(scan_at)
    assert sla_check(now=scan_at).breached >= 2
    stale, _raw = both(scan_at)
    assert stale["arrival"]["total"]["late"] == 1  # breached since: neither running nor stored
    _clock.move_to(scan_at + timedelta(minutes=1))
    aggregates_refresh(now=scan_at + timedelta(minutes=1))
    stored, raw = both(scan_at + timedelta(minutes=1))
    assert figures_only(stored) == figures_only(raw)
    assert stored["arrival"]["total"] == {"total": 4, "on_time": 1, "late": 3, "rate": 25.0}


def test_a_repeat_call_the_next_morning_reaches_first_contact_resolution_after_the_next_pass(
    day, _clock
):
    morning = BJ(9, 30, day=5)
    _clock.move_to(morning)
    aggregates_refresh(now=morning)
    # c9's number (answered at 10:00 the day before) calls again within 24 hours.
    make_call("c13", "13900000004", BJ(9, 40, day=5), answer=2, hangup=20)
    _clock.move_to(BJ(9, 41, day=5))
    aggregates_refresh(now=BJ(9, 41, day=5))
    stored, raw = both(BJ(9, 41, day=5))
    assert figures_only(stored) == figures_only(raw)
    assert stored["calls"]["first_contact"]["repeated"] == 3
    assert stored["sources"]["stored_days"] == 1


def test_other_thresholds_are_counted_from_the_rows_until_the_pass_rebuilds_the_days(day, _clock):
    _clock.move_to(AFTER)
    aggregates_refresh(now=AFTER)
    MetricSettings.objects.create(service_level_seconds=13, dispatch_target_seconds=100)
    changed = period_metrics(start=DAY_START, end=DAY_END, now=AFTER)
    assert changed["calls"]["within_threshold"] == 3  # c3, answered at 13 s, now counts
    assert changed["dispatch"]["within_target"] == 3  # T3 (0 s), T10 and T11 (60 s)
    assert changed["sources"]["stored_days"] == 0

    _clock.move_to(AFTER + timedelta(minutes=1))
    aggregates_refresh(now=AFTER + timedelta(minutes=1))
    stored, raw = both(AFTER + timedelta(minutes=1))
    assert figures_only(stored) == figures_only(raw)
    assert stored["sources"]["stored_days"] == 1
    assert stored["calls"]["within_threshold"] == 3


def test_an_explicit_threshold_of_the_api_or_a_test_is_never_answered_from_other_sums(day, _clock):
    _clock.move_to(AFTER)
    aggregates_build(days=[MARCH_4], now=AFTER)
    narrow = period_metrics(
        start=DAY_START, end=DAY_END, now=AFTER, thresholds=Thresholds(first_contact_window_hours=1)
    )
    assert narrow["calls"]["first_contact"]["repeated"] == 1
    assert narrow["sources"]["stored_days"] == 1  # the orders' sums do not depend on it


def test_building_a_day_twice_leaves_one_copy_of_its_sums(day, _clock):
    _clock.move_to(AFTER)
    aggregates_build(days=[MARCH_4], now=AFTER)
    counts = [m.objects.count() for m in (CallHour, OrderDay, DispatchBucket, AggregateDay)]
    aggregates_build(days=[MARCH_4], now=AFTER)
    assert [m.objects.count() for m in (CallHour, OrderDay, DispatchBucket, AggregateDay)] == counts
    assert OrderDay.objects.filter(day=MARCH_4).count() > 0


def test_the_back_fill_command_builds_every_day_of_the_range(day, _clock, capsys):
    _clock.move_to(BJ(12, day=6))
    call_command("dashboard_build_aggregates", "--start", "2024-03-02", "--end", "2024-03-05")
    days = AggregateDay.objects.filter(part="orders").order_by("day")
    assert [d.day for d in days] == [date(2024, 3, d) for d in (2, 3, 4, 5)]
    assert all(d.covered_until == BJ(0, day=d.day.day + 1) for d in days)
    assert "built 4 days" in capsys.readouterr().out


def test_the_beat_refreshes_the_aggregates_every_minute_with_a_registered_task():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-aggregates-refresh"]
    assert entry["task"] in app.tasks and entry["schedule"] == 60.0


def test_the_refresh_task_sums_today_with_the_clock_now(day, _clock):
    _clock.move_to(NOW)
    assert aggregates_refresh_task() >= 2  # today's calls and orders at least
    today = AggregateDay.objects.get(day=MARCH_4, part="orders")
    assert today.covered_until == NOW


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [
        (0, 0),
        (0.4, 1),
        (120, 120),
        (120.000001, 121),
        (600, 600),
        (600.5, 660),
        (86_400, 86_400),
        (86_401, 90_000),
    ],
)
def test_dispatch_times_fall_in_fixed_buckets_rounded_up(seconds, bucket):
    assert dispatch_bucket(timedelta(seconds=seconds)) == bucket


def test_the_percentile_of_a_histogram_is_the_nearest_rank_of_its_values():
    values = [0, 60, 60, 120, 120, 120, 300, 301, 900, 900]
    histogram: dict[int, int] = {}
    for v in values:
        histogram[v] = histogram.get(v, 0) + 1
    for fraction in (0.5, 0.9, 0.95, 1.0):
        assert nearest_rank_counted(histogram, fraction) == nearest_rank(values, fraction)
    assert nearest_rank_counted({}, 0.95) is None


def test_the_report_page_says_how_many_days_were_added_up_in_advance(
    client, dave, day, _clock, django_assert_max_num_queries
):
    _clock.move_to(AFTER)
    aggregates_build(days=[MARCH_4], now=AFTER)
    client.force_login(dave)
    with django_assert_max_num_queries(30):
        response = client.get("/dashboard/report/", {"start": "2024-03-04", "end": "2024-03-04"})
    html = response.content.decode()
    assert "其中 1 天的数据已预先汇总（截至 03-05 01:00，每分钟更新）" in html
    assert "40.00%" in html  # the service level of the day, from the stored sums
