"""The wall screen at scale: counts made once by the beat task for every screen, and the
"orders at risk" list read from two short index scans instead of one big sort."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from dashboard_day import BJ, NOW, make_ticket, make_timer
from django.conf import settings
from django.urls import reverse

from dashboard import selectors
from dashboard.models import WallboardCounts
from dashboard.services import wallboard_counts_refresh
from dashboard.tasks import wallboard_counts_task
from servicedesk.celery import app
from sla.selectors import answer_limit

pytestmark = pytest.mark.django_db


def _at_risk_repair(owner, unit, minute: int, **fields):
    ticket = make_ticket(
        f"r{minute}",
        "repair",
        BJ(16, minute),
        owner=owner,
        handling_unit=unit,
        dispatched_at=BJ(16, minute),
        status="dispatched",
        **fields,
    )
    make_timer(ticket, "arrival", ticket.dispatched_at, 20)  # at risk 16 min on, due at 20
    return ticket


def test_the_beat_counts_the_timers_for_every_screen_every_five_seconds():
    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-wallboard-counts"]
    assert entry["task"] in app.tasks and entry["schedule"] == 5.0


@time_machine.travel(NOW, tick=False)
def test_the_counting_task_stores_what_the_screen_would_count(day):
    assert wallboard_counts_task() == 1  # T9's arrival timer: urban crew, alice
    stored = WallboardCounts.objects.get()
    assert stored.counted_at == NOW
    assert stored.rows == [
        {
            "name": "arrival",
            "area_type": "urban",
            "unit_id": day.tickets["T9"].handling_unit_id,
            "unit": day.tickets["T9"].handling_unit.name,
            "owner_id": day.tickets["T9"].owner_id,
            "owner": "王丽",
            "at_risk": 0,
            "breached": 1,
        }
    ]


def test_a_screen_shows_fresh_counts_of_the_task_and_counts_itself_when_they_are_stale(
    day, alice, urban_crew
):
    wallboard_counts_refresh(now=NOW)
    _at_risk_repair(alice, urban_crew, 42)  # at risk from 16:58: not in the stored counts
    fresh = selectors.wallboard_snapshot(now=NOW + timedelta(seconds=5))
    assert fresh["counted_at"] == NOW
    assert (fresh["at_risk"], fresh["breached"]) == (0, 1)
    stale = selectors.wallboard_snapshot(now=NOW + timedelta(seconds=16))
    assert stale["counted_at"] == NOW + timedelta(seconds=16)
    assert (stale["at_risk"], stale["breached"]) == (1, 1)


@time_machine.travel(NOW, tick=False)
def test_the_live_fragment_with_the_task_counts_reads_a_handful_of_rows(
    client, dave, day, django_assert_max_num_queries
):
    wallboard_counts_refresh(now=NOW)
    client.force_login(dave)
    answer_limit(at=NOW)  # the rules are in memory on a running server
    # 10, one for the outages whose reporting is overdue, one for the unrouted orders.
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dashboard:wallboard_live"))
    assert response.context["s"]["counted_at"] == NOW
    assert '<span class="tile-value">1</span>' in response.content.decode()  # breached
    assert [t.label for t in response.context["s"]["by_unit"]] == ["城区抢修一班"]


def test_a_hastened_order_comes_first_however_many_timers_fall_due_before_it(
    day, alice, urban_crew
):
    plain = [_at_risk_repair(alice, urban_crew, minute) for minute in range(0, 40)]
    hastened = make_ticket(
        "hastened",
        "repair",
        BJ(16, 40),
        owner=alice,
        handling_unit=urban_crew,
        dispatched_at=BJ(16, 40),
        status="dispatched",
        call_count=2,
    )
    make_timer(hastened, "arrival", hastened.dispatched_at, 20)  # due last of all, at 17:00
    snapshot = selectors.wallboard_snapshot(now=BJ(17))
    numbers = [t.ticket.number for t in snapshot["attention"]]
    assert len(numbers) == selectors.LIST_LIMIT
    # Then by due time: T9 (due 15:42) before the plain ones (due from 16:20 on).
    assert numbers[:3] == [hastened.number, day.tickets["T9"].number, plain[0].number]
    assert numbers[-1] == plain[selectors.LIST_LIMIT - 3].number


def test_the_index_of_supervised_and_hastened_orders_covers_every_open_state():
    """The wall screen's list of supervised and hastened open orders reads a partial index:
    a state added to OPEN_STATUSES but missing from its condition makes the database read
    every order instead (a 2,000,000-order wallboard went from 30 ms to 600 ms that way)."""
    from django.db import connection

    from tickets.models import OPEN_STATUSES

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
                ["dashboard_ticket_singled_out_idx"],
            )
        else:
            cursor.execute(
                "SELECT sql FROM sqlite_master WHERE name = %s",
                ["dashboard_ticket_singled_out_idx"],
            )
        (definition,) = cursor.fetchone()
    assert [state for state in OPEN_STATUSES if f"'{state}'" not in definition] == []
