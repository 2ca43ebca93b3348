"""The 12-second answer limit has one boundary for every figure: answered at exactly
12.000 s is within it, and a call is "ringing past the limit" only once it has rung longer."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from calls.models import Call
from dashboard.metrics.basics import Thresholds, scope_build
from dashboard.metrics.figures import period_metrics
from dashboard.selectors import drill_rows, wallboard_snapshot
from dashboard.services import aggregates_build
from sla.policy import answered_within
from sla.selectors import calls_ringing_past_limit

BEIJING = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 3, 10, 0, 30, tzinfo=BEIJING)
LIMIT = timedelta(seconds=12)


def test_a_call_answered_at_exactly_the_limit_is_within_it():
    assert answered_within(waited=LIMIT, limit=LIMIT)
    assert not answered_within(waited=LIMIT + timedelta(milliseconds=1), limit=LIMIT)


@pytest.mark.django_db
def test_a_call_ringing_for_exactly_twelve_seconds_is_not_yet_an_alarm():
    Call.objects.create(call_id="at", ring_at=NOW - LIMIT)
    Call.objects.create(call_id="past", ring_at=NOW - LIMIT - timedelta(milliseconds=1))

    assert [c.call_id for c in calls_ringing_past_limit(NOW)] == ["past"]
    with time_machine.travel(NOW, tick=False):
        snapshot = wallboard_snapshot(now=NOW)
    assert (snapshot["calls_waiting"], snapshot["calls_over_answer_limit"]) == (2, 1)


@pytest.mark.django_db
def test_the_service_level_counts_twelve_seconds_in_and_twelve_point_zero_zero_one_out():
    start = NOW.replace(hour=9, minute=0, second=0)
    Call.objects.create(call_id="at", ring_at=start, answer_at=start + LIMIT)
    Call.objects.create(
        call_id="past",
        ring_at=start + timedelta(minutes=1),
        answer_at=start + timedelta(minutes=1) + LIMIT + timedelta(milliseconds=1),
    )

    figures = period_metrics(start=start, end=start + timedelta(hours=1), now=NOW)

    assert figures["calls"]["service_level"] == 50.0


@pytest.mark.django_db
def test_the_call_answered_at_twelve_seconds_is_the_one_within_from_rows_stored_days_and_drill():
    day_start = NOW.replace(hour=0, minute=0, second=0)
    start = NOW.replace(hour=9, minute=0, second=0)
    Call.objects.create(call_id="at", ring_at=start, answer_at=start + LIMIT)
    Call.objects.create(
        call_id="past",
        ring_at=start + timedelta(minutes=1),
        answer_at=start + timedelta(minutes=1) + LIMIT + timedelta(milliseconds=1),
    )
    period = {"start": day_start, "end": day_start + timedelta(days=1)}

    with time_machine.travel(NOW, tick=False):
        from_rows = period_metrics(**period, use_stored=False)
        aggregates_build(days=[NOW.date()], now=NOW)
        from_stored = period_metrics(**period)
        scope = scope_build(**period)
        drill = {
            what: [
                c.call_id
                for c in drill_rows(
                    f"calls.{what}", scope=scope, thresholds=Thresholds(), now=NOW
                ).rows
            ]
            for what in ("within_threshold", "beyond_threshold")
        }

    assert from_stored["sources"]["stored_days"] == 1
    for figures in (from_rows, from_stored):
        calls = figures["calls"]
        assert (calls["within_threshold"], calls["beyond_threshold"]) == (1, 1)
    assert drill == {"within_threshold": ["at"], "beyond_threshold": ["past"]}
