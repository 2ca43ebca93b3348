"""Reads for the supervisors' pages: the live wallboard, the breach list, the drill-downs.

Every query here is bounded (LIMITs, partial indexes on running rows) because the wall
screen asks again every few seconds all shift long, on tables with millions of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, F, Max, Min, Q, QuerySet, TextField, Value, Window
from django.db.models.functions import Cast, ExtractHour, TruncDate

from calls.models import Call
from customers.models import AreaType, HandlingUnit
from dashboard.metrics import basics as metrics_basics
from dashboard.metrics import rows as metrics_rows
from dashboard.metrics.basics import BEIJING, Scope, Thresholds
from dashboard.models import WallboardCounts
from outages import selectors as outage_selectors
from outages.models import Outage
from sla.models import Breach, Timer, TimerName
from sla.selectors import answer_limit, ringing_past_limit
from tickets.models import OPEN_STATUSES, Status, Ticket
from tickets.routing import UNROUTED

LIST_LIMIT = 30


# --- Live wallboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    at_risk: int = 0
    breached: int = 0


# Counts of the beat task older than this are not shown: the screen counts for itself.
COUNTS_FRESH_FOR = timedelta(seconds=15)


def _tallies(rows: list[dict[str, Any]], key: str, label: str) -> list[Tally]:
    grouped: dict[Any, dict[str, Any]] = {}
    for row in rows:
        cell = grouped.setdefault(
            row[key], {"label": row[label] or "—", "at_risk": 0, "breached": 0}
        )
        cell["at_risk"] += row["at_risk"]
        cell["breached"] += row["breached"]
    return sorted(
        (
            Tally(
                key=str(k or ""),
                label=str(v["label"]),
                at_risk=v["at_risk"],
                breached=v["breached"],
            )
            for k, v in grouped.items()
        ),
        key=lambda t: (-t.breached, -t.at_risk, t.label),
    )


def running_timer_counts(*, now: datetime) -> list[dict[str, Any]]:
    """Running timers at risk (not yet due) and breached (past due) at `now`, per timer,
    area type, handling unit and agent, with the unit's and the agent's names.

    Counted on the ids alone, from the covering partial index on running timers (no table
    read), and the few names looked up after: grouping on the joined names would sort
    every running timer at risk, tens of thousands in a busy hour.
    """
    rows = list(
        Timer.objects.filter(stopped_at__isnull=True, at_risk_at__lte=now)
        .values("name", "area_type", "handling_unit_id", "owner_id")
        .annotate(
            at_risk=Count("pk", filter=Q(due_at__gt=now)),
            breached=Count("pk", filter=Q(due_at__lte=now)),
        )
        .order_by()
    )
    units, owners = _labels(
        unit_ids={r["handling_unit_id"] for r in rows if r["handling_unit_id"]},
        owner_ids={r["owner_id"] for r in rows if r["owner_id"]},
    )
    return [
        {
            "name": r["name"],
            "area_type": r["area_type"],
            "unit_id": r["handling_unit_id"],
            "unit": units.get(r["handling_unit_id"], ""),
            "owner_id": r["owner_id"],
            "owner": owners.get(r["owner_id"], ""),
            "at_risk": r["at_risk"],
            "breached": r["breached"],
        }
        for r in rows
    ]


def _labels(*, unit_ids: set[int], owner_ids: set[int]) -> tuple[dict[int, str], dict[int, str]]:
    """The names of the units and agents counted, read in one query (a union of the two)."""
    if not unit_ids and not owner_ids:
        return {}, {}
    units = (
        HandlingUnit.objects.filter(pk__in=unit_ids)
        .annotate(table=Value("unit"), second=Value(""), third=Value(""))
        .order_by()
        .values_list("table", "pk", "name", "second", "third")
    )
    owners = (
        get_user_model()
        .objects.filter(pk__in=owner_ids)
        .annotate(table=Value("owner"))
        .order_by()
        .values_list("table", "pk", "first_name", "last_name", "username")
    )
    unit_names: dict[int, str] = {}
    owner_names: dict[int, str] = {}
    for table, pk, first, last, username in units.union(owners, all=True):
        if table == "unit":
            unit_names[pk] = first
        else:
            owner_names[pk] = f"{first} {last}".strip() or username
    return unit_names, owner_names


def _counts(*, now: datetime) -> tuple[list[dict[str, Any]], datetime]:
    """The beat task's counts when fresh (counted in the last few seconds before `now`),
    otherwise counted here; with the moment they were counted."""
    stored = (
        WallboardCounts.objects.filter(
            pk=1, counted_at__lte=now, counted_at__gte=now - COUNTS_FRESH_FOR
        )
        .values_list("rows", "counted_at")
        .first()
    )
    if stored is not None:
        return stored
    return running_timer_counts(now=now), now


def _attention(*, now: datetime) -> list[Timer]:
    """Running timers at risk or breached: supervised orders first, then the most hastened,
    then by due time; at most LIST_LIMIT.

    Two short reads instead of sorting every timer at risk joined to its order: the
    timers of supervised or hastened orders (a partial index holds those few orders), and
    the earliest-due timers at risk (a partial index on running timers by due time). Any
    other timer among the first LIST_LIMIT is among the earliest-due LIST_LIMIT.
    """
    at_risk = Timer.objects.filter(stopped_at__isnull=True, at_risk_at__lte=now).select_related(
        "ticket", "handling_unit", "owner"
    )
    singled_out = list(
        at_risk.filter(
            Q(ticket__supervised=True) | Q(ticket__call_count__gt=1),
            ticket__status__in=OPEN_STATUSES,
        ).order_by(F("ticket__supervised").desc(), F("ticket__call_count").desc(), "due_at", "pk")[
            :LIST_LIMIT
        ]
    )
    earliest = list(at_risk.order_by("due_at", "pk")[:LIST_LIMIT])
    chosen = {t.pk for t in singled_out}
    rest = [
        t
        for t in earliest
        if t.pk not in chosen and not (t.ticket.supervised or t.ticket.call_count > 1)
    ]
    return (singled_out + rest)[:LIST_LIMIT]


def wallboard_snapshot(*, now: datetime) -> dict[str, Any]:
    """Everything the wall screen shows at `now`, in a fixed, small number of queries."""
    # Calls ringing longer than the answer limit are the live alarm (12 s by default).
    answer_within = answer_limit(at=now)
    waiting = Call.objects.filter(
        ring_at__isnull=False, answer_at__isnull=True, hangup_at__isnull=True
    ).aggregate(
        count=Count("pk"),
        oldest=Min("ring_at"),
        over_limit=Count("pk", filter=ringing_past_limit(now=now, limit=answer_within)),
    )
    longest = (now - waiting["oldest"]).total_seconds() if waiting["oldest"] else None

    rows, counted_at = _counts(now=now)
    names = dict(TimerName.choices)
    areas = dict(AreaType.choices)
    for row in rows:
        row["name_label"] = names.get(row["name"], row["name"])
        row["area_label"] = areas.get(row["area_type"], row["area_type"])
    supervised = list(
        Ticket.objects.filter(status__in=OPEN_STATUSES)
        .filter(Q(supervised=True) | Q(call_count__gt=1))
        .select_related("handling_unit", "owner")
        .order_by("-supervised", "-call_count", "created_at")[:LIST_LIMIT]
    )
    breaches = list(
        Breach.objects.filter(acknowledged_at__isnull=True)
        .select_related("ticket", "handling_unit", "owner", "timer")
        .order_by("-recorded_at", "-id")[:LIST_LIMIT]
    )
    # Storm mode: each active outage's calls per 5 minutes over the last hour, counted in
    # the same query.
    slot_starts = outage_selectors.slot_starts(now=now)
    outages = list(
        Outage.objects.filter(starts_at__lte=now)
        .filter(Q(restored_at__isnull=True) | Q(restored_at__gt=now))
        .annotate(
            linked_calls=Count("tickets__call", distinct=True),
            linked_orders=Count("tickets"),
            last_linked=Max("tickets__created_at"),
            **outage_selectors.slot_counts(starts=slot_starts),
        )
        .order_by("-linked_calls", "starts_at")[:LIST_LIMIT]
    )
    for outage in outages:
        outage.slots = outage_selectors.slots_of(outage, starts=slot_starts)
    reporting_overdue = outage_selectors.outage_reporting_overdue(now=now, limit=LIST_LIMIT)
    unrouted_count, unrouted = unrouted_orders(limit=LIST_LIMIT)
    return {
        "now": now,
        "counted_at": counted_at,
        "calls_waiting": waiting["count"],
        "calls_over_answer_limit": waiting["over_limit"],
        "answer_limit_seconds": round(answer_within.total_seconds()),
        "longest_wait_seconds": round(longest) if longest is not None else None,
        "at_risk": sum(r["at_risk"] for r in rows),
        "breached": sum(r["breached"] for r in rows),
        "by_timer": _tallies(rows, "name", "name_label"),
        "by_unit": _tallies(rows, "unit_id", "unit"),
        "by_area": _tallies(rows, "area_type", "area_label"),
        "by_agent": _tallies(rows, "owner_id", "owner"),
        "attention": _attention(now=now),
        "supervised": supervised,
        "breaches": breaches,
        "outages": outages,
        # Outage reporting overdue: reports to the power authority not recorded, reporting
        # clocks (entry, restoration update) past their due time.
        "outage_reporting": reporting_overdue,
        # Orders no routing rule and no fallback unit received: the alarm block at the top.
        "unrouted_count": unrouted_count,
        "unrouted": unrouted,
    }


def unrouted_orders(*, limit: int) -> tuple[int, list[Ticket]]:
    """Orders taken while no routing rule and no fallback unit could receive them (marked
    by `tickets.services`), oldest first, and how many there are — in one query.

    They are still accepted with no unit, so the (handling unit, status) index finds them
    among the few orders waiting to leave the agent; the mark is read as text so the same
    filter runs on PostgreSQL and SQLite. An order leaves the list once it is dispatched
    (the mark is cleared, the unit set) or closed.
    """
    rows = list(
        Ticket.objects.filter(status=Status.ACCEPTED, handling_unit__isnull=True)
        .alias(marks=Cast("to_complete", TextField()))
        .filter(marks__contains=f'"{UNROUTED}"')
        .annotate(total=Window(Count("pk")))
        .only("number", "category", "created_at")
        .order_by("created_at", "id")[:limit]
    )
    return (rows[0].total if rows else 0), rows


# --- Breach list ---------------------------------------------------------------------------


def breach_list(
    *,
    name: str = "",
    unit: str = "",
    area_type: str = "",
    agent: str = "",
    state: str = "",
    start: date | None = None,
    end: date | None = None,
) -> QuerySet[Breach]:
    """Breaches, newest first, filtered as on the breach list (dates on the Beijing calendar)."""
    qs = Breach.objects.select_related(
        "ticket", "timer", "handling_unit", "owner", "acknowledged_by"
    )
    if name:
        qs = qs.filter(name=name)
    if unit:
        qs = qs.filter(handling_unit__code=unit)
    if area_type:
        qs = qs.filter(area_type=area_type)
    if agent:
        qs = qs.filter(owner__username=agent)
    if state == "open":
        qs = qs.filter(acknowledged_at__isnull=True)
    elif state == "acknowledged":
        qs = qs.filter(acknowledged_at__isnull=False)
    if start:
        qs = qs.filter(occurred_at__gte=datetime.combine(start, time(), tzinfo=BEIJING))
    if end:
        qs = qs.filter(
            occurred_at__lt=datetime.combine(end + timedelta(days=1), time(), tzinfo=BEIJING)
        )
    return qs.order_by("-occurred_at", "-id")


def breach_get(*, pk: int) -> Breach:
    return Breach.objects.select_related("ticket").get(pk=pk)


def breach_lateness(breach: Breach, *, now: datetime) -> timedelta:
    """How late: until the timer stopped, or until now while it still runs."""
    stopped = breach.timer.stopped_at if breach.timer_id else None
    return (stopped or now) - breach.occurred_at


# --- Drill-down: the rows behind each figure -------------------------------------------------


@dataclass(frozen=True)
class Drill:
    kind: str  # "calls", "orders" or "timers"
    rows: QuerySet


def drill_rows(figure: str, *, scope: Scope, thresholds: Thresholds, now: datetime) -> Drill:
    """The calls, orders or timers behind one figure of the period report.

    `figure` is "<group>.<what>[:<value>]", e.g. "calls.abandoned", "orders.category:repair",
    "arrival.urban.late". Raises KeyError for an unknown figure.
    """
    group, _, rest = figure.partition(".")
    what, _, value = rest.partition(":")
    if group == "calls":
        return Drill("calls", _drill_calls(what, value, scope, thresholds))
    if group == "orders":
        return Drill("orders", _drill_orders(what, value, scope))
    if group == "dispatch":
        rows = metrics_rows.dispatch_rows(scope)
        if what == "beyond_target":
            rows = rows.filter(
                dispatch_time__gt=timedelta(seconds=thresholds.dispatch_target_seconds)
            )
        elif what != "all":
            raise KeyError(figure)
        return Drill("orders", rows.order_by("-dispatch_time", "pk"))
    if group in ("arrival", "restoration", "reply", "callback"):
        return Drill("timers", _drill_timers(group, what, value, scope, now))
    if group == "satisfaction":
        return Drill("orders", _drill_satisfaction(what, value, scope))
    if group == "repairs":
        return Drill("orders", _drill_repairs(what, value, scope, thresholds))
    raise KeyError(figure)


def _drill_calls(what: str, value: str, scope: Scope, t: Thresholds) -> QuerySet[Call]:
    rows = metrics_rows.call_rows(scope).select_related("agent")
    conditions = metrics_rows.call_conditions(t)
    if what in conditions:
        rows = rows.filter(conditions[what])
    elif what == "hour":
        rows = rows.annotate(hour=ExtractHour("ring_at", tzinfo=BEIJING)).filter(hour=int(value))
    elif what in ("first_contact_base", "first_contact_repeated"):
        sql, params = metrics_rows.first_contact_sql(
            scope, t, select="s.id, CASE WHEN {repeated} THEN 1 ELSE 0 END"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [
                pk for pk, repeated in cursor.fetchall() if what == "first_contact_base" or repeated
            ]
        rows = Call.objects.filter(pk__in=ids).select_related("agent")
    else:
        raise KeyError(what)
    return rows.order_by("ring_at", "pk")


def _drill_orders(what: str, value: str, scope: Scope) -> QuerySet[Ticket]:
    rows = metrics_rows.ticket_rows(scope)
    if what == "all":
        pass
    elif what in ("category", "area_type"):
        rows = rows.filter(**{what: value})
    elif what == "subtype":
        rows = rows.filter(subtype__code=value)
    elif what == "hour":
        rows = rows.annotate(hour=ExtractHour("created_at", tzinfo=BEIJING)).filter(hour=int(value))
    else:
        raise KeyError(what)
    return rows.order_by("created_at", "pk")


def _drill_timers(
    group: str, what: str, value: str, scope: Scope, now: datetime
) -> QuerySet[Timer]:
    # "arrival.urban.late", "arrival.total.on_time", "reply.complaint.late", "callback.late"
    parts = [group, *what.split(".")] if what else [group]
    if value:
        raise KeyError(value)
    name = group
    rows = metrics_rows.timer_rows(scope).filter(name=name)
    outcome = parts[-1]
    middle = parts[1:-1]
    if middle and middle[0] != "total":
        if group in ("arrival", "restoration"):
            rows = rows.filter(ticket__area_type=middle[0])
        elif group == "reply":
            rows = rows.filter(ticket__category=middle[0])
    conditions = metrics_rows.timer_conditions(now)
    if outcome == "all":
        rows = rows.filter(conditions["on_time"] | conditions["late"])
    elif outcome in conditions:
        rows = rows.filter(conditions[outcome])
    else:
        raise KeyError(outcome)
    return rows.select_related("ticket", "handling_unit", "owner").order_by("due_at", "pk")


def _drill_satisfaction(what: str, value: str, scope: Scope) -> QuerySet[Ticket]:
    rows = metrics_rows.ticket_rows(scope).exclude(satisfaction="")
    if what == "visited":
        pass
    elif what == "satisfied":
        rows = rows.filter(satisfaction__in=metrics_basics.SATISFIED)
    elif what == "level":
        rows = rows.filter(satisfaction=value)
    elif what == "day":
        rows = rows.annotate(day=TruncDate("created_at", tzinfo=BEIJING)).filter(
            day=date.fromisoformat(value)
        )
    else:
        raise KeyError(what)
    return rows.order_by("created_at", "pk")


def _drill_repairs(what: str, value: str, scope: Scope, t: Thresholds) -> QuerySet[Ticket]:
    rows = metrics_rows.ticket_rows(scope).filter(category="repair")
    if what == "all":
        pass
    elif what == "faults":
        # A fault is an order of its own, or an outage: shown by the first order linked to it.
        first_per_outage = (
            rows.filter(outage__isnull=False)
            .values("outage_id")
            .annotate(first=Min("pk"))
            .values("first")
        )
        rows = rows.filter(metrics_rows.fault_condition() | Q(pk__in=first_per_outage))
    elif what in ("feeder", "transformer_area"):
        rows = rows.filter(metrics_rows.fault_condition(), **{what: value})
    else:
        raise KeyError(what)
    return rows.order_by("created_at", "pk")


# --- Frequent outages (频繁停电) ----------------------------------------------------------------

FREQUENT_RANKED = 20


@dataclass(frozen=True)
class FrequentRanking:
    feeders: list[outage_selectors.RankedPlace]
    transformer_areas: list[outage_selectors.RankedPlace]
    window_days: int
    until: datetime


def frequent_outage_ranking(*, until: datetime) -> FrequentRanking | None:
    """The report's two rankings (feeders, transformer areas) over the levels' rolling
    window ending at `until` (the report's end, or now): three queries. They follow no
    filter of the report (an outage has no category, unit or agent). None when the levels
    are switched off."""
    levels = outage_selectors.frequent_levels_current()
    if levels is None:
        return None
    return FrequentRanking(
        feeders=outage_selectors.outage_ranking(
            column="feeders", now=until, levels=levels, limit=FREQUENT_RANKED
        ),
        transformer_areas=outage_selectors.outage_ranking(
            column="transformer_areas", now=until, levels=levels, limit=FREQUENT_RANKED
        ),
        window_days=levels.window_days,
        until=until,
    )
