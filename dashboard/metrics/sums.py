"""Sums from the raw rows, per Beijing day: what the stored aggregates hold for days already
summed (dashboard.services writes them from these same functions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
)
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from dashboard.metrics.basics import (
    BEIJING,
    COMPLIANCE_TIMERS,
    Scope,
    Thresholds,
    _micros,
    dispatch_bucket,
)
from dashboard.metrics.rows import (
    call_conditions,
    call_rows,
    dispatch_rows,
    fault_condition,
    first_contact_sql,
    ticket_rows,
    timer_model,
    timer_settled_conditions,
)
from dashboard.models import (
    HOUR_FIELDS,
)
from tickets.models import Satisfaction, Ticket

# --- Sums from the raw rows -------------------------------------------------------------------
#
# Every figure is a ratio or a ranking of sums that add up across days. The functions below
# compute those sums from the raw rows of a scope, keyed finely enough (Beijing day, and the
# filter columns) that the stored aggregates are exactly these rows, written down once;
# the report adds stored days and freshly computed ranges alike. Keep one definition here.

CALL_MEASURES = (
    "offered",
    "answered",
    "within_threshold",
    "beyond_threshold",
    "abandoned",
    "short_abandoned",
    "waiting",
    "wait_total_us",
    "fcr_base",
    "fcr_repeated",
)
TIMER_MEASURES = tuple(
    f"{name}_{outcome}" for name in COMPLIANCE_TIMERS for outcome in ("on_time", "late")
)
ORDER_MEASURES = (
    "orders",
    *HOUR_FIELDS,
    "very_satisfied",
    "satisfied",
    "neutral",
    "dissatisfied",
    "own_faults",
    "dispatched",
    "dispatch_total_us",
    "dispatch_within",
    *TIMER_MEASURES,
)
ORDER_KEYS = ("day", "category", "subtype_id", "area_type", "unit_id", "owner_id")
# The Ticket columns those keys (after the day) are grouped by in the raw rows.
TICKET_KEYS = ("category", "subtype_id", "area_type", "handling_unit_id", "owner_id")
PLACE_FIELDS = ("feeder", "transformer_area")

# (day, hour, agent); ORDER_KEYS; (day, sub-type, area type, unit, feeder or area, name).
CallKey = tuple[date, int, int | None]
OrderKey = tuple[date, str, int | None, str, int | None, int | None]
PlaceKey = tuple[date, int | None, str, int | None, str, str]
BucketKey = tuple[date, str, int | None, str, int | None, int | None, int]  # ORDER_KEYS, bucket


def _add(into: dict[str, int], values: dict[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        into[name] = into.get(name, 0) + (values.get(name) or 0)


def calls_sums(scope: Scope, t: Thresholds) -> dict[CallKey, dict[str, int]]:
    """Call counts per Beijing day, hour and agent, first-contact resolution included.

    The counts come from one grouped query; the repeated calls from the LEAD query of the
    drill-down (a sort of the period's calls by number, where a look-up per call would
    probe the index hundreds of thousands of times), few enough to be placed in Python.
    """
    sums: dict[CallKey, dict[str, int]] = {}
    if scope.empty:
        return sums
    cond = call_conditions(t)
    wait = ExpressionWrapper(F("answer_at") - F("ring_at"), output_field=DurationField())
    rows = (
        call_rows(scope)
        .annotate(
            day=TruncDate("ring_at", tzinfo=BEIJING), hour=ExtractHour("ring_at", tzinfo=BEIJING)
        )
        .values("day", "hour", "agent_id")
        .annotate(
            **{name: Count("pk", filter=q) if q else Count("pk") for name, q in cond.items()},
            wait_total=Sum(wait, filter=cond["answered"]),
            fcr_base=Count("pk", filter=cond["answered"] & ~Q(caller_phone="")),
        )
        .order_by()
    )
    for row in rows:
        row["wait_total_us"] = _micros(row["wait_total"])
        _add(sums.setdefault((row["day"], row["hour"], row["agent_id"]), {}), row, CALL_MEASURES)
    sql, params = first_contact_sql(scope, t, select="s.ring_at, s.agent_id", repeated_only=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        repeated = cursor.fetchall()
    for ring_at, agent_id in repeated:
        local = _aware(ring_at).astimezone(BEIJING)
        cell = sums.setdefault((local.date(), local.hour, agent_id), {})
        cell["fcr_repeated"] = cell.get("fcr_repeated", 0) + 1
    return sums


def _aware(value: datetime | str) -> datetime:
    """A raw cursor's timestamp as an aware UTC datetime (SQLite hands back text)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def _ticket_filters(scope: Scope, prefix: str = "") -> dict[str, Any]:
    """The scope's order filters as lookups, on Ticket (prefix "") or through a relation."""
    pairs = {
        "category": scope.category,
        "subtype_id": scope.subtype_id,
        "area_type": scope.area_type,
        "handling_unit_id": scope.unit_id,
        "owner_id": scope.agent_id,
    }
    return {f"{prefix}{name}": value for name, value in pairs.items() if value not in ("", None)}


def orders_sums(
    scope: Scope, t: Thresholds
) -> tuple[dict[OrderKey, dict[str, int]], dict[BucketKey, int]]:
    """Order counts per Beijing day of acceptance and filter columns (ORDER_KEYS), and the
    dispatch-time buckets (`dispatch_bucket`) per the same keys.

    Three passes over the scope's orders: volumes and return visits, dispatch times, and the
    compliance timers whose outcome is settled (see `timer_sums_running` for the rest).
    """
    sums: dict[OrderKey, dict[str, int]] = {}
    buckets: dict[BucketKey, int] = {}
    if scope.empty:
        return sums, buckets
    levels = {level: Count("pk", filter=Q(satisfaction=level)) for level in Satisfaction.values}
    rows = (
        ticket_rows(scope)
        .annotate(
            day=TruncDate("created_at", tzinfo=BEIJING),
            hour=ExtractHour("created_at", tzinfo=BEIJING),
        )
        .values("day", "hour", *TICKET_KEYS)
        .annotate(orders=Count("pk"), own_faults=Count("pk", filter=fault_condition()), **levels)
        .order_by()
    )
    for row in rows:
        cell = sums.setdefault(tuple(row[k] for k in ("day", *TICKET_KEYS)), {})
        row[HOUR_FIELDS[row["hour"]]] = row["orders"]
        _add(cell, row, ("orders", HOUR_FIELDS[row["hour"]], "own_faults", *Satisfaction.values))

    target = timedelta(seconds=t.dispatch_target_seconds)
    for key, durations in dispatch_sums(scope).items():
        cell = sums.setdefault(key, {})
        for duration, n in durations:
            cell["dispatched"] = cell.get("dispatched", 0) + n
            cell["dispatch_total_us"] = cell.get("dispatch_total_us", 0) + _micros(duration) * n
            if duration <= target:
                cell["dispatch_within"] = cell.get("dispatch_within", 0) + n
            bucket = (*key, dispatch_bucket(duration))
            buckets[bucket] = buckets.get(bucket, 0) + n

    timer = timer_model()
    if timer is not None:
        cond = timer_settled_conditions()
        ticket_keys = tuple(f"ticket__{k}" for k in TICKET_KEYS)
        rows = (
            timer.objects.filter(
                name__in=list(COMPLIANCE_TIMERS),
                started_at__gte=scope.start,
                ticket__created_at__gte=scope.start,
                ticket__created_at__lt=scope.end,
                ticket__master__isnull=True,
                **_ticket_filters(scope, "ticket__"),
            )
            .exclude(stopped_at__isnull=True, breached_at__isnull=True)
            .annotate(day=TruncDate("ticket__created_at", tzinfo=BEIJING))
            .values("day", "name", *ticket_keys)
            .annotate(
                on_time=Count("pk", filter=cond["on_time"]), late=Count("pk", filter=cond["late"])
            )
            .order_by()
        )
        for row in rows:
            cell = sums.setdefault(tuple(row[k] for k in ("day", *ticket_keys)), {})
            _add(
                cell,
                {f"{row['name']}_on_time": row["on_time"], f"{row['name']}_late": row["late"]},
                (f"{row['name']}_on_time", f"{row['name']}_late"),
            )
    return sums, buckets


def dispatch_sums(scope: Scope) -> dict[OrderKey, list[tuple[timedelta, int]]]:
    """Dispatch times of the scope's orders (no children) as (time, how many) per ORDER_KEYS.

    Grouped by the exact time so that totals, the target count and the buckets are all made
    from it in Python, the same on PostgreSQL and on the embedded SQLite.
    """
    rows = (
        dispatch_rows(scope)
        .annotate(day=TruncDate("created_at", tzinfo=BEIJING))
        .values("day", *TICKET_KEYS, "dispatch_time")
        .annotate(n=Count("pk"))
        .order_by()
    )
    found: dict[OrderKey, list[tuple[timedelta, int]]] = {}
    for row in rows:
        found.setdefault(tuple(row[k] for k in ("day", *TICKET_KEYS)), []).append(
            (row["dispatch_time"], row["n"])
        )
    return found


def places_sums(scope: Scope) -> dict[PlaceKey, int]:
    """Faults per Beijing day, sub-type, area type, unit and feeder / transformer area."""
    sums: dict[PlaceKey, int] = {}
    if scope.empty:
        return sums
    for kind in PLACE_FIELDS:
        rows = (
            ticket_rows(scope)
            .filter(fault_condition())
            .exclude(**{kind: ""})
            .annotate(day=TruncDate("created_at", tzinfo=BEIJING))
            .values("day", "subtype_id", "area_type", "handling_unit_id", kind)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            key = (
                row["day"],
                row["subtype_id"],
                row["area_type"],
                row["handling_unit_id"],
                kind,
                row[kind],
            )
            sums[key] = sums.get(key, 0) + row["n"]
    return sums


def timer_sums_running(scope: Scope, now: datetime) -> dict[tuple[str, str, str], int]:
    """Compliance timers of the scope's orders still running, not breached, and past due at
    `now`: late, by (timer, area type, category). Asked fresh every time (they turn late by
    the clock alone).

    Two steps: the timers from the scanner's partial index on running, unbreached timers
    (a handful while the scanner runs, thousands at worst), then their orders by primary
    key. Joined in one query, the planner guesses from the index's statistics that many
    timers are past due and reads every order of the month instead.
    """
    timer = timer_model()
    if timer is None or scope.empty:
        return {}
    late = list(
        timer.objects.filter(
            name__in=list(COMPLIANCE_TIMERS),
            stopped_at__isnull=True,
            breached_at__isnull=True,
            due_at__lte=now,
            started_at__gte=scope.start,
        )
        .order_by()
        .values_list("ticket_id", "name")
    )
    if not late:
        return {}
    orders = {
        pk: (area_type, category)
        for pk, area_type, category in Ticket.objects.filter(
            pk__in={ticket_id for ticket_id, _name in late},
            created_at__gte=scope.start,
            created_at__lt=scope.end,
            master__isnull=True,
            **_ticket_filters(scope),
        )
        .order_by()
        .values_list("pk", "area_type", "category")
    }
    counts: dict[tuple[str, str, str], int] = {}
    for ticket_id, name in late:
        if ticket_id in orders:
            key = (name, *orders[ticket_id])
            counts[key] = counts.get(key, 0) + 1
    return counts
