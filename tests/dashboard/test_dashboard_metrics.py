"""Every SPEC section 6 period figure on the hand-made day of conftest.py, worked out by hand.

The calls of the day: c1 answered in 5 s, c2 in exactly 12 s, c3 in 13 s, c9 in 20 s;
c4 and c5 hung up unanswered after 3 s and exactly 5 s (short abandons), c6 after 30 s;
c7 is still ringing. So 8 offered, 4 answered, 1 abandoned, 2 short, 1 waiting: base 5.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from dashboard_day import DAY_END, DAY_START, NOW

from dashboard.metrics.basics import Thresholds, nearest_rank
from dashboard.metrics.figures import period_metrics
from dashboard.models import MetricSettings

pytestmark = pytest.mark.django_db


def figures(**filters):
    return period_metrics(start=DAY_START, end=DAY_END, now=NOW, **filters)


def test_call_counts_leave_out_calls_outside_the_period(day):
    calls = figures()["calls"]
    assert calls["offered"] == 8
    assert calls["answered"] == 4
    assert calls["abandoned"] == 1
    assert calls["short_abandoned"] == 2
    assert calls["waiting"] == 1
    assert calls["rate_base"] == 5


def test_answer_and_abandonment_rates_leave_out_short_abandons_and_waiting_calls(day):
    calls = figures()["calls"]
    assert calls["answer_rate"] == 80.0
    assert calls["abandonment_rate"] == 20.0


def test_a_call_answered_at_exactly_twelve_seconds_is_within_the_service_level(day):
    calls = figures()["calls"]
    assert calls["within_threshold"] == 2  # c1 (5 s) and c2 (exactly 12 s); not c3 (13 s)
    assert calls["service_level"] == 40.0


def test_average_speed_of_answer_is_the_mean_wait_of_answered_calls(day):
    assert figures()["calls"]["average_speed_of_answer_seconds"] == 12.5  # (5 + 12 + 13 + 20) / 4


def test_first_contact_resolution_counts_a_repeat_at_exactly_the_window_end_and_after_the_period(
    day,
):
    first = figures()["calls"]["first_contact"]
    # c1 is repeated by c10 exactly 24 h later (next day), c3 by the abandoned c6; c2's next
    # call comes 24 h 1 s later, c9's number never calls again.
    assert first == {"base": 4, "repeated": 2, "resolved": 2, "rate": 50.0}


def test_service_level_per_hour_is_computed_on_the_beijing_clock(day):
    by_hour = {row["hour"]: row for row in figures()["volumes"]["by_hour"]}
    assert by_hour[9]["calls"] == 6 and by_hour[9]["service_level"] == 50.0
    assert by_hour[10]["calls"] == 1 and by_hour[10]["service_level"] == 0.0
    assert by_hour[23]["calls"] == 1 and by_hour[23]["service_level"] is None
    assert by_hour[3]["calls"] == 0


def test_dispatch_time_leaves_out_child_orders_and_starts_when_the_call_ends(day):
    dispatch = figures()["dispatch"]
    # T1 120 s (from c1's hang-up), T2 300 s (no call: from acceptance), T3 0 s (sent before
    # the call ended), T5 120 s (reopened: its first dispatch), T9 120 s, T10 60 s, T11 60 s.
    assert dispatch["count"] == 7
    assert dispatch["average_seconds"] == round(780 / 7, 1)
    assert dispatch["p95_seconds"] == 300.0
    assert dispatch["within_target"] == 6
    assert dispatch["within_target_rate"] == round(600 / 7, 2)
    assert dispatch["average_meets_target"] is True


def test_the_95th_percentile_is_the_nearest_rank():
    assert nearest_rank([0, 60, 60, 120, 120, 120, 300], 0.95) == 300
    assert nearest_rank(list(range(1, 101)), 0.95) == 95
    assert nearest_rank([], 0.95) is None


def test_arrival_compliance_by_area_type_counts_running_timers_past_due_and_leaves_out_children(
    day,
):
    arrival = figures()["arrival"]
    assert arrival["by_area_type"]["urban"] == {"total": 2, "on_time": 1, "late": 1, "rate": 50.0}
    assert arrival["by_area_type"]["rural"] == {"total": 1, "on_time": 0, "late": 1, "rate": 0.0}
    # T10's timer runs until 18:01: not yet on time or late.
    assert arrival["by_area_type"]["remote"] == {"total": 0, "on_time": 0, "late": 0, "rate": None}
    assert arrival["total"] == {"total": 3, "on_time": 1, "late": 2, "rate": 33.33}


def test_restoration_compliance_is_reported_by_area_type(day):
    restoration = figures()["restoration"]
    assert restoration["by_area_type"]["urban"] == {
        "total": 1,
        "on_time": 1,
        "late": 0,
        "rate": 100.0,
    }
    assert restoration["total"]["total"] == 1


def test_reply_on_time_rate_leaves_out_a_timer_stopped_by_cancellation(day):
    reply = figures()["reply"]
    assert reply["complaint"] == {"total": 1, "on_time": 1, "late": 0, "rate": 100.0}
    assert reply["report"] == {"total": 0, "on_time": 0, "late": 0, "rate": None}


def test_satisfaction_rate_counts_very_satisfied_and_satisfied_against_the_target(day):
    satisfaction = figures()["satisfaction"]
    assert satisfaction["visited"] == 4
    assert satisfaction["satisfied"] == 2
    assert satisfaction["rate"] == 50.0
    assert satisfaction["meets_target"] is False
    assert satisfaction["trend"] == [
        {"date": "2024-03-04", "visited": 4, "satisfied": 2, "rate": 50.0}
    ]


def test_repairs_per_ten_thousand_households_and_orders_per_fault(day):
    repairs = figures()["repairs"]
    assert repairs["orders"] == 7
    assert repairs["households"] == 23000
    assert repairs["per_10000_households"] == round(7 * 10000 / 23000, 2)
    # Faults: T1, T3, T9, T10 on their own, and outage TD-1 for T7 and T8; T4 is T1's child.
    assert repairs["faults"] == 5
    assert repairs["orders_per_fault"] == 1.4


def test_repeat_repairs_are_ranked_by_feeder_and_transformer_area_without_children(day):
    repairs = figures()["repairs"]
    assert repairs["repeat_by_feeder"] == [{"feeder": "F1", "faults": 3}]
    assert repairs["repeat_by_transformer_area"] == [{"transformer_area": "ta1", "faults": 2}]


def test_volumes_by_category_and_area_type(day):
    volumes = figures()["volumes"]
    assert volumes["orders"] == 11
    by_category = {row["category"]: row["count"] for row in volumes["by_category"]}
    assert by_category == {"repair": 7, "inquiry": 1, "application": 1, "complaint": 1, "report": 1}
    by_area = {row["area_type"]: row["count"] for row in volumes["by_area_type"]}
    assert by_area == {"urban": 9, "rural": 1, "remote": 1}
    by_hour = {row["hour"]: row for row in volumes["by_hour"]}
    assert by_hour[9]["orders"] == 2 and by_hour[9]["by_category"]["repair"] == 2


def test_a_category_filter_changes_the_order_figures_but_not_the_calls(day):
    repair = figures(category="repair")
    assert repair["volumes"]["orders"] == 7
    assert repair["dispatch"]["count"] == 4
    assert repair["satisfaction"]["visited"] == 2
    assert repair["calls"]["offered"] == 8


def test_an_agent_filter_applies_to_calls_and_orders(day):
    gina = figures(agent="gina")
    assert gina["volumes"]["orders"] == 1
    assert gina["calls"]["offered"] == 2
    assert gina["calls"]["service_level"] == 50.0
    assert gina["calls"]["first_contact"]["base"] == 2


def test_unit_and_area_type_filters(day):
    assert figures(unit="crew-urban")["volumes"]["orders"] == 3
    rural = figures(area_type="rural")
    assert rural["volumes"]["orders"] == 1
    assert rural["repairs"]["per_10000_households"] == 1.25


def test_an_unknown_filter_code_matches_nothing(day):
    nothing = figures(unit="no-such-unit")
    assert nothing["volumes"]["orders"] == 0
    assert nothing["calls"]["offered"] == 0
    assert nothing["calls"]["answer_rate"] is None


def test_thresholds_come_from_the_admin_row(day):
    MetricSettings.objects.create(service_level_seconds=13, short_abandon_seconds=2)
    calls = figures()["calls"]
    assert calls["within_threshold"] == 3
    assert calls["short_abandoned"] == 0
    assert calls["abandoned"] == 3
    assert calls["service_level"] == round(300 / 7, 2)
    assert figures()["thresholds"]["service_level_seconds"] == 13


def test_a_shorter_first_contact_window_sees_fewer_repeats(day):
    result = period_metrics(
        start=DAY_START, end=DAY_END, now=NOW, thresholds=Thresholds(first_contact_window_hours=1)
    )
    assert result["calls"]["first_contact"]["repeated"] == 1  # only c3 -> c6 (20 minutes)


def test_the_figures_are_plain_json(day):
    encoded = json.dumps(figures())
    assert json.loads(encoded)["period"]["start"] == DAY_START.isoformat()


def test_an_empty_period_has_no_rates_rather_than_zero_division(day):
    empty = period_metrics(
        start=DAY_START - timedelta(days=30), end=DAY_START - timedelta(days=29), now=NOW
    )
    assert empty["calls"]["service_level"] is None
    assert empty["dispatch"]["p95_seconds"] is None
    assert empty["satisfaction"]["rate"] is None
