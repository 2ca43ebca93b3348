"""Two scanners at the same moment (a second beat started by mistake, two workers picking up
overlapping passes) still record each breach once, on PostgreSQL's real row locks."""

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from sla.checker import sla_check
from sla.models import Breach, Notification
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket, TicketEvent

BEIJING = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 6, 3, 10, 0, tzinfo=BEIJING)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row-lock races need PostgreSQL"),
]


def _run_together(*targets):
    """Start every target in its own thread (own database connection) at the same instant."""
    barrier = threading.Barrier(len(targets))
    results, errors = [], []

    def worker(target):
        try:
            barrier.wait(timeout=10)
            results.append(target())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def test_four_scanners_at_once_record_each_breach_once(alice_actor, urban_customer, dave):
    for minute in range(40):
        services.ticket_create(
            draft=TicketDraft(
                category="repair",
                caller_phone="13800000001",
                description="停电",
                customer=urban_customer,
            ),
            actor=alice_actor,
            dispatch=True,
            now=T0 + timedelta(minutes=minute % 20),
        )

    results = _run_together(*[lambda: sla_check(now=T0 + timedelta(hours=3))] * 4)

    assert sum(r.breached for r in results) == 40
    assert Breach.objects.count() == 40
    assert Notification.objects.filter(kind="breach", recipient=dave).count() == 40
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).count() == 40
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SUPERVISED).count() == 40
    assert Ticket.objects.filter(supervised=True).count() == 40


def test_a_scanner_racing_the_crews_arrival_records_the_breach_once(
    alice_actor, bob, urban_customer
):
    tickets = [
        services.ticket_create(
            draft=TicketDraft(
                category="repair",
                caller_phone="13800000001",
                description="停电",
                customer=urban_customer,
            ),
            actor=alice_actor,
            dispatch=True,
            now=T0,
        )
        for _ in range(10)
    ]
    late = T0 + timedelta(minutes=50)
    crew = services.Actor(user=bob)

    def arrive_all():
        for ticket in tickets:
            services.ticket_record_arrival(ticket=ticket, actor=crew, now=late)

    # The crew records arrival (which records a late breach itself) while the scanner runs.
    _run_together(arrive_all, lambda: sla_check(now=late), lambda: sla_check(now=late))

    assert Ticket.objects.filter(status="on_site").count() == 10
    assert Breach.objects.count() == 10
    assert set(Breach.objects.values_list("occurred_at", flat=True)) == {T0 + timedelta(minutes=40)}
