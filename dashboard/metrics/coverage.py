"""Adding up a period: stored days where they are built, freshly computed ranges for the
rest (today since the last pass, days never built)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Sum,
)

from dashboard.metrics.basics import Scope, Thresholds, beijing_day, day_start
from dashboard.metrics.sums import (
    CALL_MEASURES,
    ORDER_MEASURES,
    PLACE_FIELDS,
    _add,
    calls_sums,
    orders_sums,
    places_sums,
)
from dashboard.models import (
    AggregateDay,
    AggregatePart,
    CallHour,
    DispatchBucket,
    OrderDay,
    RepairPlace,
)
from tickets.models import Category

# --- Adding up: stored days and freshly computed ranges ----------------------------------------


@dataclass
class Totals:
    """The sums of a whole period, in the shape the figures are made from."""

    calls_by_hour: dict[int, dict[str, int]] = field(default_factory=dict)
    # (day, category, area type, sub-type) -> ORDER_MEASURES
    orders: dict[tuple[date, str, str, int | None], dict[str, int]] = field(default_factory=dict)
    dispatch_buckets: dict[int, int] = field(default_factory=dict)
    places: dict[str, dict[str, int]] = field(default_factory=lambda: {f: {} for f in PLACE_FIELDS})
    places_from_rows: bool = False
    stored_days: int = 0
    live_ranges: list[tuple[datetime, datetime]] = field(default_factory=list)
    oldest_build: datetime | None = None

    def add_calls(self, hour: int, values: dict[str, Any]) -> None:
        _add(self.calls_by_hour.setdefault(hour, {}), values, CALL_MEASURES)

    def add_orders(self, key: tuple[date, str, str, int | None], values: dict[str, Any]) -> None:
        _add(self.orders.setdefault(key, {}), values, ORDER_MEASURES)

    def add_bucket(self, bucket: int, n: int) -> None:
        self.dispatch_buckets[bucket] = self.dispatch_buckets.get(bucket, 0) + n

    def add_place(self, kind: str, place: str, n: int) -> None:
        self.places[kind][place] = self.places[kind].get(place, 0) + n


@dataclass(frozen=True)
class Coverage:
    """Which whole days of the period the stored aggregates answer, per part, and the rest."""

    calls_days: list[date]
    orders_days: list[date]
    calls_live: list[tuple[datetime, datetime]]
    orders_live: list[tuple[datetime, datetime]]
    oldest_build: datetime | None


def calls_basis(t: Thresholds) -> str:
    """The thresholds the stored call counts depend on, as written on their AggregateDay."""
    return (
        f"sl={t.service_level_seconds};short={t.short_abandon_seconds};"
        f"fcr={t.first_contact_window_hours}"
    )


def orders_basis(t: Thresholds) -> str:
    return f"dispatch={t.dispatch_target_seconds}"


def _coalesce(ranges: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(r for r in ranges if r[0] < r[1]):
        if merged and merged[-1][1] >= start:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def coverage_plan(scope: Scope, t: Thresholds, *, use_stored: bool) -> Coverage:
    """Split [start, end) into whole Beijing days the stored aggregates hold (with the same
    thresholds) and ranges to compute from the raw rows: partial days at the edges, days
    never built, and each stored day's tail after its `covered_until` (today's last minute)."""
    if not use_stored:
        whole = [(scope.start, scope.end)]
        return Coverage([], [], whole, whole, None)
    first = beijing_day(scope.start)
    if day_start(first) < scope.start:
        first += timedelta(days=1)
    days = []
    day = first
    while day_start(day + timedelta(days=1)) <= scope.end:
        days.append(day)
        day += timedelta(days=1)
    if not days:
        whole = [(scope.start, scope.end)]
        return Coverage([], [], whole, whole, None)
    edges = [
        (scope.start, day_start(days[0])),
        (day_start(days[-1] + timedelta(days=1)), scope.end),
    ]
    built = {
        (row.day, row.part): row
        for row in AggregateDay.objects.filter(day__gte=days[0], day__lte=days[-1])
    }
    basis = {AggregatePart.CALLS: calls_basis(t), AggregatePart.ORDERS: orders_basis(t)}
    stored: dict[str, list[date]] = {part: [] for part in basis}
    live: dict[str, list[tuple[datetime, datetime]]] = {part: list(edges) for part in basis}
    oldest = None
    for day in days:
        start, end = day_start(day), day_start(day + timedelta(days=1))
        for part, wanted in basis.items():
            row = built.get((day, part))
            if row is None or row.basis != wanted:
                live[part].append((start, end))
                continue
            stored[part].append(day)
            live[part].append((max(start, row.covered_until), end))
            oldest = row.built_at if oldest is None else min(oldest, row.built_at)
    return Coverage(
        calls_days=stored[AggregatePart.CALLS],
        orders_days=stored[AggregatePart.ORDERS],
        calls_live=_coalesce(live[AggregatePart.CALLS]),
        orders_live=_coalesce(live[AggregatePart.ORDERS]),
        oldest_build=oldest,
    )


def _stored_order_filters(scope: Scope) -> dict[str, Any]:
    pairs = {
        "category": scope.category,
        "subtype_id": scope.subtype_id,
        "area_type": scope.area_type,
        "unit_id": scope.unit_id,
        "owner_id": scope.agent_id,
    }
    return {name: value for name, value in pairs.items() if value not in ("", None)}


def _sum_all(names: tuple[str, ...]) -> dict[str, Sum]:
    return {name: Sum(name) for name in names}


def period_totals(scope: Scope, t: Thresholds, *, use_stored: bool = True) -> Totals:
    """Every sum the figures need for the scope: stored days plus raw rows for the rest."""
    totals = Totals()
    if scope.empty:
        return totals
    plan = coverage_plan(scope, t, use_stored=use_stored)
    totals.stored_days = len(plan.orders_days)
    totals.live_ranges = plan.orders_live
    totals.oldest_build = plan.oldest_build

    # Calls: filtered by agent only.
    if plan.calls_days:
        stored_calls = CallHour.objects.filter(day__in=plan.calls_days)
        if scope.agent_id is not None:
            stored_calls = stored_calls.filter(agent_id=scope.agent_id)
        for row in stored_calls.values("hour").annotate(**_sum_all(CALL_MEASURES)).order_by():
            totals.add_calls(row["hour"], row)
    for start, end in plan.calls_live:
        for (_day, hour, _agent), values in calls_sums(
            replace(scope, start=start, end=end), t
        ).items():
            totals.add_calls(hour, values)

    # Orders, dispatch buckets and repeat places.
    filters = _stored_order_filters(scope)
    if plan.orders_days:
        stored = OrderDay.objects.filter(day__in=plan.orders_days, **filters)
        for row in (
            stored.values("day", "category", "area_type", "subtype_id")
            .annotate(**_sum_all(ORDER_MEASURES))
            .order_by()
        ):
            totals.add_orders(
                (row["day"], row["category"], row["area_type"], row["subtype_id"]), row
            )
        buckets = DispatchBucket.objects.filter(day__in=plan.orders_days, **filters)
        for row in buckets.values("bucket_seconds").annotate(n=Sum("orders")).order_by():
            totals.add_bucket(row["bucket_seconds"], row["n"])
    for start, end in plan.orders_live:
        sums, buckets = orders_sums(replace(scope, start=start, end=end), t)
        for (day, category, subtype_id, area_type, _unit, _owner), values in sums.items():
            totals.add_orders((day, category, area_type, subtype_id), values)
        for key, n in buckets.items():
            totals.add_bucket(key[-1], n)

    # Places are stored without the agent: a report for one agent counts them from the rows.
    totals.places_from_rows = scope.agent_id is not None
    if totals.places_from_rows or scope.category not in ("", Category.REPAIR):
        return totals
    if plan.orders_days:
        place_filters = {k: v for k, v in filters.items() if k not in ("category", "owner_id")}
        stored_places = RepairPlace.objects.filter(day__in=plan.orders_days, **place_filters)
        for row in stored_places.values("kind", "place").annotate(n=Sum("faults")).order_by():
            totals.add_place(row["kind"], row["place"], row["n"])
    for start, end in plan.orders_live:
        for key, n in places_sums(replace(scope, start=start, end=end)).items():
            totals.add_place(key[4], key[5], n)
    return totals
