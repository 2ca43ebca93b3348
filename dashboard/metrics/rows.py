"""The named row sets every figure is built from, and the definition of each figure as
conditions on them: the drill-down pages list exactly these rows, so "47 abandoned calls"
opens 47 calls."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import connection
from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from calls.models import Call
from dashboard.metrics.basics import COMPLIANCE_TIMERS, ZERO, Scope, Thresholds
from tickets.models import Category, Ticket, TicketEvent

# --- Row sets (shared by the figures and their drill-downs) -------------------------------


def call_rows(scope: Scope) -> QuerySet[Call]:
    qs = Call.objects.filter(ring_at__gte=scope.start, ring_at__lt=scope.end)
    if scope.empty:
        return qs.none()
    if scope.agent_id is not None:
        qs = qs.filter(agent_id=scope.agent_id)
    return qs


def ticket_rows(scope: Scope) -> QuerySet[Ticket]:
    qs = Ticket.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end)
    if scope.empty:
        return qs.none()
    if scope.category:
        qs = qs.filter(category=scope.category)
    if scope.subtype_id is not None:
        qs = qs.filter(subtype_id=scope.subtype_id)
    if scope.area_type:
        qs = qs.filter(area_type=scope.area_type)
    if scope.unit_id is not None:
        qs = qs.filter(handling_unit_id=scope.unit_id)
    if scope.agent_id is not None:
        qs = qs.filter(owner_id=scope.agent_id)
    return qs


def return_rows(scope: Scope) -> QuerySet[TicketEvent]:
    """The centre's returns (退单) of the period's orders: one timeline event each, naming
    the unit the result came from (`data["unit"]`). Read through the partial index
    `ticketevent_return_idx`: few rows, however many orders."""
    return TicketEvent.objects.filter(
        action="return_check", ticket__in=ticket_rows(scope).values("pk")
    )


def timer_model():
    """sla.models.Timer, or None while the SLA engine is not installed."""
    try:
        return apps.get_model("sla", "Timer")
    except LookupError:
        return None


def timer_rows(scope: Scope) -> QuerySet:
    """The compliance timers of the period's orders (child orders left out)."""
    timer = timer_model()
    if timer is None:
        raise LookupError("The SLA engine's timers are not installed.")
    # Every compliance timer starts at or after its order's acceptance (on acceptance, dispatch
    # or arrival), so `started_at >= start` changes nothing in the result; it lets the database
    # read the timers of the period from the (name, started_at) index instead of all of them.
    return timer.objects.filter(
        ticket__in=ticket_rows(scope).filter(master__isnull=True).values("pk"),
        name__in=list(COMPLIANCE_TIMERS),
        started_at__gte=scope.start,
    )


# --- The definitions of each figure, as conditions on those row sets ----------------------


def call_conditions(t: Thresholds) -> dict[str, Q]:
    answered = Q(answer_at__isnull=False)
    short = Q(
        answer_at__isnull=True,
        hangup_at__isnull=False,
        hangup_at__lte=F("ring_at") + timedelta(seconds=t.short_abandon_seconds),
    )
    return {
        "offered": Q(),
        "answered": answered,
        # Within at exactly the threshold (12.000 s counts): sla.policy.answered_within.
        "within_threshold": answered
        & Q(answer_at__lte=F("ring_at") + timedelta(seconds=t.service_level_seconds)),
        "beyond_threshold": answered
        & Q(answer_at__gt=F("ring_at") + timedelta(seconds=t.service_level_seconds)),
        "abandoned": Q(answer_at__isnull=True, hangup_at__isnull=False) & ~short,
        "short_abandoned": short,
        "waiting": Q(answer_at__isnull=True, hangup_at__isnull=True),
    }


def dispatch_rows(scope: Scope) -> QuerySet[Ticket]:
    """Dispatched orders of the period (no child orders), annotated with `dispatch_time`."""
    first_dispatch = (
        TicketEvent.objects.filter(ticket=OuterRef("pk"), action="dispatch")
        .order_by("at", "id")
        .values("at")[:1]
    )
    # A dissatisfied return visit resets dispatched_at to the reopening; the first dispatch
    # is then read from the timeline (only for those few orders: CASE evaluates it lazily).
    dispatched = Case(
        When(reopen_count=0, then=F("dispatched_at")),
        default=Coalesce(Subquery(first_dispatch), F("dispatched_at")),
    )
    # A correlated look-up (one primary-key probe per order) rather than a join: a join makes
    # PostgreSQL hash the whole calls table, millions of rows, for a month's orders.
    hangup = Subquery(Call.objects.filter(pk=OuterRef("call_id")).values("hangup_at")[:1])
    clock_start = Coalesce(hangup, F("created_at"))
    return (
        ticket_rows(scope)
        .filter(master__isnull=True, dispatched_at__isnull=False)
        .annotate(first_dispatch_at=dispatched, dispatch_clock_start=clock_start)
        .annotate(
            dispatch_time=Case(
                When(first_dispatch_at__lt=F("dispatch_clock_start"), then=Value(ZERO)),
                default=ExpressionWrapper(
                    F("first_dispatch_at") - F("dispatch_clock_start"), output_field=DurationField()
                ),
                output_field=DurationField(),
            )
        )
    )


def timer_conditions(now: datetime) -> dict[str, Q]:
    """On time and late as of `now`: the settled outcomes, and running timers past due."""
    settled = timer_settled_conditions()
    return {
        "on_time": settled["on_time"],
        "late": settled["late"] | Q(stopped_at__isnull=True, due_at__lte=now),
    }


def timer_settled_conditions() -> dict[str, Q]:
    """Outcomes no clock can change any more: a stopped or breached timer stays what it is."""
    done_by_event = Q()
    for index, (name, field_name) in enumerate(COMPLIANCE_TIMERS.items()):
        clause = Q(name=name, **{f"ticket__{field_name}__isnull": False})
        done_by_event = clause if index == 0 else done_by_event | clause
    on_time = (
        Q(breached_at__isnull=True, stopped_at__isnull=False, stopped_at__lte=F("due_at"))
        & done_by_event
    )
    late = Q(breached_at__isnull=False) | Q(stopped_at__gt=F("due_at"))
    return {"on_time": on_time, "late": late}


def fault_condition() -> Q:
    return Q(category=Category.REPAIR, master__isnull=True, outage__isnull=True)


def first_contact_sql(
    scope: Scope, t: Thresholds, *, select: str, repeated_only: bool = False
) -> tuple[str, list[Any]]:
    """SQL over answered calls of the period with `next_ring`: when the same number rang next.

    A window function (LEAD) finds each call's next call from the same number in one pass;
    the inner range reaches past the end of the period by the window so that a repeat
    shortly after the period still counts. Used for the figure and for its drill-down;
    `repeated_only` keeps only the calls that were repeated within the window.
    """
    window = timedelta(hours=t.first_contact_window_hours)
    table = Call._meta.db_table
    if connection.vendor == "postgresql":
        repeated = "s.next_ring IS NOT NULL AND s.next_ring <= s.ring_at + %s"
        repeat_params: list[Any] = [window]
    else:
        repeated = "s.next_ring IS NOT NULL AND julianday(s.next_ring) <= julianday(s.ring_at) + %s"
        repeat_params = [window.total_seconds() / 86400.0]
    agent_clause, agent_params = (
        ("AND s.agent_id = %s", [scope.agent_id]) if scope.agent_id else ("", [])
    )
    repeated_clause = f"AND {repeated}" if repeated_only else ""
    sql = f"""
        SELECT {select.format(repeated=repeated)}
        FROM (
            SELECT c.id, c.ring_at, c.answer_at, c.agent_id,
                   LEAD(c.ring_at) OVER (PARTITION BY c.caller_phone ORDER BY c.ring_at, c.id) AS next_ring
            FROM {table} c
            WHERE c.caller_phone <> '' AND c.ring_at >= %s AND c.ring_at < %s
        ) s
        WHERE s.ring_at >= %s AND s.ring_at < %s AND s.answer_at IS NOT NULL {agent_clause}
        {repeated_clause}
    """
    select_params = repeat_params if "{repeated}" in select else []
    params = [
        *select_params,
        scope.start,
        scope.end + window,
        scope.start,
        scope.end,
        *agent_params,
        *(repeat_params if repeated_only else []),
    ]
    return sql, params
