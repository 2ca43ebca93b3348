"""The outage reporting limits (5/5/5 minutes for fault outages, data in OutageTimerRule):
entered after confirmation, expected restoration updated when it slips, restoration
recorded after power is back. They breach once, notify the crew's supervisors, escalate
up the units, and show on the wallboard. The clock is time-machine's; the scanner is
called as Celery beat calls it."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from outage_cast import bj, fault

from dashboard.selectors import wallboard_snapshot
from outages import services
from outages.models import OutageTimer, OutageTimerRule
from sla.models import EscalationStep, Notification

pytestmark = pytest.mark.django_db


def at(hour: int, minute: int, second: int = 0):
    return time_machine.travel(bj(2025, 6, 3, hour, minute, second), tick=False)


def scan():
    return services.outage_timers_scan(now=timezone.now())


@pytest.fixture
def urban_fault(urban_area):
    """Confirmed at 10:00, expected back at 12:00, on the urban area (crew: the urban crew)."""
    return fault(feeders=[], service_areas=[urban_area])


def register(draft, actor):
    return services.outage_register(draft=draft, actor=actor)


def test_a_fault_entered_within_five_minutes_of_confirmation_meets_its_limit(
    bob_actor, urban_fault, dave
):
    with at(10, 4):
        outage = register(urban_fault, bob_actor)
    entry = outage.timers.get(name="entry")
    assert entry.started_at == bj(2025, 6, 3, 10, 0) and entry.due_at == bj(2025, 6, 3, 10, 5)
    assert entry.stopped_at == bj(2025, 6, 3, 10, 4) and entry.breached_at is None
    assert not Notification.objects.exists()


def test_a_fault_entered_late_is_breached_at_its_due_time_and_tells_the_supervisors(
    bob_actor, urban_fault, dave
):
    with at(10, 8):
        outage = register(urban_fault, bob_actor)
    entry = outage.timers.get(name="entry")
    assert entry.breached_at == bj(2025, 6, 3, 10, 5)
    assert entry.breach_recorded_at == bj(2025, 6, 3, 10, 8)
    (note,) = Notification.objects.filter(recipient=dave)
    assert note.kind == "breach" and outage.number in note.message
    with at(10, 9):
        assert scan().breached == 0  # recorded once


def test_an_expected_restoration_that_passes_without_an_update_is_breached_by_the_scan(
    bob_actor, urban_fault, dave
):
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
    update = outage.timers.get(name="restoration_update")
    assert (update.started_at, update.due_at) == (bj(2025, 6, 3, 12, 0), bj(2025, 6, 3, 12, 5))
    with at(12, 4, 59):
        assert scan().breached == 0
    with at(12, 7):
        assert scan().breached == 1
        assert scan().breached == 0
    update.refresh_from_db()
    assert update.breached_at == bj(2025, 6, 3, 12, 5)  # its due time, though noticed at 12:07
    assert update.breach_recorded_at == bj(2025, 6, 3, 12, 7) and update.stopped_at is None
    assert Notification.objects.filter(recipient=dave, kind="breach").count() == 1


def test_updating_the_expected_restoration_in_time_stops_the_clock_and_arms_the_next(
    bob_actor, urban_fault
):
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
    with at(12, 3):
        services.outage_update_restoration(
            outage=outage,
            expected_restoration_at=bj(2025, 6, 3, 14, 0),
            note="更换电缆头，需延长",
            actor=bob_actor,
        )
    first, second = outage.timers.filter(name="restoration_update").order_by("pk")
    assert first.stopped_at == bj(2025, 6, 3, 12, 3) and first.breached_at is None
    assert second.started_at == bj(2025, 6, 3, 14, 0) and second.stopped_at is None
    assert outage.events.filter(kind="restoration").get().note == "更换电缆头，需延长"


def test_an_update_after_the_limit_records_the_breach_on_the_spot(bob_actor, urban_fault, dave):
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
    with at(12, 9):  # the scanner was down
        services.outage_update_restoration(
            outage=outage, expected_restoration_at=bj(2025, 6, 3, 14, 0), actor=bob_actor
        )
    first = outage.timers.filter(name="restoration_update").order_by("pk").first()
    assert first.breached_at == bj(2025, 6, 3, 12, 5) and first.stopped_at == bj(2025, 6, 3, 12, 9)
    assert Notification.objects.filter(recipient=dave, kind="breach").count() == 1


def test_the_restoration_recorded_late_after_power_back_is_breached(bob_actor, urban_fault, dave):
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
    with at(11, 20):
        services.outage_end(outage=outage, actor=bob_actor, restored_at=bj(2025, 6, 3, 11, 10))
    record = outage.timers.get(name="restoration_record")
    assert record.started_at == bj(2025, 6, 3, 11, 10)
    assert record.breached_at == bj(2025, 6, 3, 11, 15)
    # Power came back before the expected 12:00: the update clock never ran.
    update = outage.timers.get(name="restoration_update")
    assert update.breached_at is None and update.stopped_at == update.started_at
    assert Notification.objects.filter(recipient=dave, kind="breach").count() == 1


def test_the_restoration_recorded_in_time_meets_its_limit(bob_actor, urban_fault):
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
    with at(11, 13):
        services.outage_end(outage=outage, actor=bob_actor, restored_at=bj(2025, 6, 3, 11, 10))
    assert outage.timers.filter(breached_at__isnull=False).count() == 0


def test_a_breach_still_running_climbs_the_escalation_ladder_once(
    bob_actor, urban_fault, dave, centre
):
    boss = type(dave).objects.create_user("boss")
    centre.supervisors.add(boss)
    assert EscalationStep.objects.filter(level=2, name="", after_minutes=30).exists()
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
    with at(12, 6):
        scan()
    with at(12, 34):
        assert scan().escalated == 0
    with at(12, 36):
        assert scan().escalated == 1
        assert scan().escalated == 0
    assert outage.timers.get(name="restoration_update").escalation_level == 2
    (note,) = Notification.objects.filter(recipient=boss)
    assert note.kind == "escalation" and outage.number in note.message


def test_the_limits_are_data_an_administrator_changes(bob_actor, urban_fault):
    OutageTimerRule.objects.filter(name="entry", kind="fault").update(minutes=15)
    with at(10, 12):
        outage = register(urban_fault, bob_actor)
    entry = outage.timers.get(name="entry")
    assert entry.due_at == bj(2025, 6, 3, 10, 15) and entry.breached_at is None


def test_a_kind_without_a_rule_runs_no_clock_and_a_rule_for_every_kind_applies(bob_actor):
    draft = fault(kind="temporary", confirmed_at=None)
    with at(10, 3):
        assert not register(draft, bob_actor).timers.exists()
    OutageTimerRule.objects.create(name="restoration_update", kind="", minutes=10)
    with at(10, 4):
        outage = register(draft, bob_actor)
    assert outage.timers.get().due_at == bj(2025, 6, 3, 12, 10)


def test_the_wallboard_shows_an_overdue_clock_and_a_due_authority_report_until_recorded(
    bob_actor, dave_actor, urban_fault, important_customer
):
    with at(10, 3):
        outage = register(urban_fault, bob_actor)
        rows = wallboard_snapshot(now=timezone.now())["outage_reporting"]
    assert [(o.number, o.authority_report_due, o.overdue_timer_name) for o in rows] == [
        (outage.number, True, None)
    ]
    with at(12, 6):
        scan()
        (row,) = wallboard_snapshot(now=timezone.now())["outage_reporting"]
        assert row.overdue_timer_name == "restoration_update"
        services.outage_record_authority_report(outage=outage, actor=dave_actor)
        services.outage_update_restoration(
            outage=outage, expected_restoration_at=bj(2025, 6, 3, 13, 0), actor=bob_actor
        )
        assert wallboard_snapshot(now=timezone.now())["outage_reporting"] == []


def test_the_scan_is_on_the_beat_schedule_and_by_hand(bob_actor, urban_fault, capsys):
    from django.core.management import call_command

    entry = settings.CELERY_BEAT_SCHEDULE["outage-timers-scan"]
    assert entry["task"] == "outages.tasks.outage_timers_scan_task"
    with at(10, 3):
        register(urban_fault, bob_actor)
    with at(12, 6):
        call_command("outage_scan")
    assert "breached=1" in capsys.readouterr().out
    assert OutageTimer.objects.filter(breached_at__isnull=False).count() == 1


def test_the_task_records_the_breaches_due(bob_actor, urban_fault):
    from outages.tasks import outage_timers_scan_task

    with at(10, 3):
        register(urban_fault, bob_actor)
    with at(12, 6):
        assert outage_timers_scan_task() == 1


def test_an_update_clock_that_has_not_started_is_not_overdue(bob_actor, urban_fault):
    with at(10, 3):
        register(urban_fault, bob_actor)
    with at(11, 0):
        assert scan().breached == 0
        assert wallboard_snapshot(now=timezone.now())["outage_reporting"] == []
    assert timedelta(minutes=5) == (
        OutageTimer.objects.get(name="restoration_update").due_at
        - OutageTimer.objects.get(name="restoration_update").started_at
    )
