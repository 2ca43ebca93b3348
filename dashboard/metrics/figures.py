"""The period figures supervisors watch (SPEC section 6): what they count, and how.

`period_metrics` is the one entry point: the report page, its exports and the REST API's
GET /api/v1/metrics/ all call it, so a figure never means two things. Every figure is built
from a named row set (`call_rows`, `ticket_rows`, `timer_rows` and the `Q` objects below);
the drill-down pages list exactly those rows, so "47 abandoned calls" opens 47 calls.

Speed: every figure is a ratio or ranking of sums that add up day by day. `orders_sums`,
`calls_sums` and friends compute those sums from the raw rows, per Beijing day; the
aggregate tables (dashboard.models, written by dashboard.services) hold the same rows for
days already summed, so a month's report adds up about thirty stored days and computes only
the rest (today since the last pass, days never built) from the raw rows. Stored days lag
a late change (a return visit, a breach, a repeat call) by one refresh pass; the tests
check that stored and raw give the same figures.

What is counted (the period is half-open, [start, end), instants in UTC):

Calls — every call whose phone started ringing in the period. Only the agent filter
applies to calls (a call has no category or unit until an order is taken).
    - short abandon: unanswered, the caller hung up within `short_abandon_seconds` of the
      first ring (inclusive). Left out of every rate below.
    - abandoned: unanswered and hung up later than that.
    - waiting: neither answered nor hung up (still ringing); left out of the rates too.
    - base = answered + abandoned.
    - answer rate = answered / base; abandonment rate = abandoned / base.
    - service level = answered within `service_level_seconds` of ringing (inclusive:
      answered at exactly 12.000 s counts) / base.
    - average speed of answer = mean of (answer - ring) over answered calls.
    - first-contact resolution: an answered call with a caller number is resolved at
      first contact unless the same number rings again within `first_contact_window_hours`
      after it (looking past the end of the period when needed).

Orders — every order accepted (created_at) in the period, filtered by category,
sub-type, area type, handling unit and owner agent. One cohort for all order figures,
so a figure and its drill-down always agree, and all of them use the indexed created_at.
    - dispatch time: from the end of the linked call (or acceptance, without a call) to
      the first dispatch. Child orders (attached to a master) are left out, as SPEC says
      for every duration. Dispatched before the call ended counts as 0 s. An order reopened
      by a dissatisfied return visit keeps its first dispatch (read from its timeline).
      Reported as the average, the 95th percentile (nearest rank: the smallest value that
      at least 95 % of the orders do not exceed, read at the resolution of `dispatch_bucket`:
      the whole second up to 10 minutes, the whole minute up to a day, the whole hour beyond,
      rounded up) and the share within `dispatch_target_seconds`.
    - arrival / restoration / reply compliance: from the SLA engine's timers, whose due
      time is the limit this order really had (area type, important customer, working
      days). On time: stopped no later than due, by the event itself (crew on site, power
      restored, reply recorded). Late: breached, stopped after due, or still running past
      due. Timers stopped early by a cancellation or merge, and timers not yet due, are
      neither. Child orders are left out.
    - satisfaction: orders with a return visit recorded; satisfied = "very satisfied" or
      "satisfied"; rate = satisfied / visited, against `satisfaction_target_percent`.
    - repairs per 10,000 households: repair orders / households of the service areas in
      scope (area type and unit filters apply) x 10,000.
    - orders per fault: repair orders / faults, where a fault is a repair that is neither
      a child of a master order nor linked to an outage, or one outage (however many
      orders were linked to it).
    - repeat repairs: feeders and transformer areas with at least `repeat_repair_minimum`
      faults in the period, most first.
    - volumes by Beijing hour of day, by category, by area type and by sub-type.
    - by unit: the handed-back results the centre returned (退单) to each handling unit,
      over the period's orders, counted against the unit the result came from.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    IntegerField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from customers.models import AreaType, HandlingUnit, ServiceArea
from dashboard.metrics.basics import (
    BEIJING,
    COMPLIANCE_TIMERS,
    SATISFIED,
    Scope,
    Thresholds,
    nearest_rank_counted,
    scope_build,
    thresholds_current,
)
from dashboard.metrics.coverage import Totals, period_totals
from dashboard.metrics.rows import fault_condition, return_rows, ticket_rows, timer_model
from dashboard.metrics.sums import CALL_MEASURES, _add, timer_sums_running
from dashboard.models import (
    HOUR_FIELDS,
)
from tickets.models import Category, Satisfaction, SubType

# --- Figures from the sums ------------------------------------------------------------------


def _percent(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _call_figures(totals: Totals) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    names = (
        "offered",
        "answered",
        "within_threshold",
        "beyond_threshold",
        "abandoned",
        "short_abandoned",
        "waiting",
    )
    sums: dict[str, int] = {}
    by_hour: dict[int, dict[str, Any]] = {}
    for hour, row in totals.calls_by_hour.items():
        _add(sums, row, CALL_MEASURES)
        base = row.get("answered", 0) + row.get("abandoned", 0)
        by_hour[hour] = {
            "calls": row.get("offered", 0),
            "answered": row.get("answered", 0),
            "service_level": _percent(row.get("within_threshold", 0), base),
        }
    counts = {name: sums.get(name, 0) for name in names}
    base = counts["answered"] + counts["abandoned"]
    fcr_base, repeated = sums.get("fcr_base", 0), sums.get("fcr_repeated", 0)
    figures = {
        **counts,
        "rate_base": base,
        "answer_rate": _percent(counts["answered"], base),
        "service_level": _percent(counts["within_threshold"], base),
        "abandonment_rate": _percent(counts["abandoned"], base),
        "average_speed_of_answer_seconds": (
            round(sums.get("wait_total_us", 0) / 1_000_000 / counts["answered"], 1)
            if counts["answered"]
            else None
        ),
        "first_contact": {
            "base": fcr_base,
            "repeated": repeated,
            "resolved": fcr_base - repeated,
            "rate": _percent(fcr_base - repeated, fcr_base),
        },
    }
    return figures, [
        {"hour": h, **by_hour.get(h, {"calls": 0, "answered": 0, "service_level": None})}
        for h in range(24)
    ]


def _volumes(totals: Totals) -> dict[str, Any]:
    by_hour_category: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_category: dict[str, int] = defaultdict(int)
    by_area: dict[str, int] = defaultdict(int)
    by_subtype: dict[int, int] = defaultdict(int)
    total = 0
    for (_day, category, area_type, subtype_id), row in totals.orders.items():
        n = row.get("orders", 0)
        total += n
        by_category[category] += n
        by_area[area_type] += n
        if subtype_id is not None and n:
            by_subtype[subtype_id] += n
        for hour, name in enumerate(HOUR_FIELDS):
            by_hour_category[hour][category] += row.get(name, 0)
    subtypes = {
        s.pk: s
        for s in SubType.objects.filter(pk__in=list(by_subtype)).only(
            "code", "name", "category", "counted_separately"
        )
    }
    listed = sorted(
        ((subtypes[pk], n) for pk, n in by_subtype.items() if pk in subtypes),
        key=lambda pair: (-pair[1], pair[0].code),
    )
    return {
        "orders": total,
        "by_hour": [
            {
                "hour": h,
                "orders": sum(by_hour_category[h].values()),
                "by_category": {c: by_hour_category[h].get(c, 0) for c in Category.values},
            }
            for h in range(24)
        ],
        "by_category": [
            {"category": c, "label": str(label), "count": by_category.get(c, 0)}
            for c, label in Category.choices
        ],
        "by_area_type": [
            {"area_type": a, "label": str(label), "count": by_area.get(a, 0)}
            for a, label in AreaType.choices
        ],
        "by_subtype": [
            {
                "subtype": s.code,
                "label": s.name,
                "category": s.category,
                "counted_separately": s.counted_separately,
                "count": n,
            }
            for s, n in listed
        ],
    }


def _order_sum(totals: Totals, name: str) -> int:
    return sum(row.get(name, 0) for row in totals.orders.values())


def _dispatch(totals: Totals, t: Thresholds) -> dict[str, Any]:
    count = _order_sum(totals, "dispatched")
    within = _order_sum(totals, "dispatch_within")
    total_us = _order_sum(totals, "dispatch_total_us")
    p95 = nearest_rank_counted(totals.dispatch_buckets, 0.95) if count else None
    return {
        "count": count,
        "average_seconds": round(total_us / 1_000_000 / count, 1) if count else None,
        "p95_seconds": float(p95) if p95 is not None else None,
        "within_target": within,
        "beyond_target": count - within,
        "within_target_rate": _percent(within, count),
        "target_seconds": t.dispatch_target_seconds,
        "average_meets_target": (
            total_us <= t.dispatch_target_seconds * 1_000_000 * count if count else None
        ),
    }


def _compliance(totals: Totals, running_late: dict[tuple[str, str, str], int]) -> dict[str, Any]:
    empty_cell = {"total": 0, "on_time": 0, "late": 0, "rate": None}
    areas = list(AreaType.values)
    result: dict[str, Any] = {
        "available": timer_model() is not None,
        "arrival": {
            "by_area_type": {a: dict(empty_cell) for a in areas},
            "total": dict(empty_cell),
        },
        "restoration": {
            "by_area_type": {a: dict(empty_cell) for a in areas},
            "total": dict(empty_cell),
        },
        "reply": {c: dict(empty_cell) for c in (Category.COMPLAINT, Category.REPORT)},
        "callback": dict(empty_cell),
    }
    if not result["available"]:
        return result

    def add(cell: dict[str, Any], on_time: int, late: int) -> None:
        cell["on_time"] += on_time
        cell["late"] += late
        cell["total"] = cell["on_time"] + cell["late"]
        cell["rate"] = _percent(cell["on_time"], cell["total"])

    def place(name: str, area_type: str, category: str, on_time: int, late: int) -> None:
        if not on_time and not late:
            return
        if name in ("arrival", "restoration") and area_type in result[name]["by_area_type"]:
            add(result[name]["by_area_type"][area_type], on_time, late)
            add(result[name]["total"], on_time, late)
        elif name == "reply" and category in result["reply"]:
            add(result["reply"][category], on_time, late)
        elif name == "callback":
            add(result["callback"], on_time, late)

    for (_day, category, area_type, _subtype), row in totals.orders.items():
        for name in COMPLIANCE_TIMERS:
            place(
                name, area_type, category, row.get(f"{name}_on_time", 0), row.get(f"{name}_late", 0)
            )
    for (name, area_type, category), n in running_late.items():
        place(name, area_type, category, 0, n)
    return result


def _satisfaction(totals: Totals, t: Thresholds) -> dict[str, Any]:
    levels: dict[str, int] = {s: 0 for s in Satisfaction.values}
    trend: dict[date, dict[str, int]] = {}
    for (day, _category, _area, _subtype), row in totals.orders.items():
        for level in Satisfaction.values:
            n = row.get(level, 0)
            if not n:
                continue
            levels[level] += n
            cell = trend.setdefault(day, {"visited": 0, "satisfied": 0})
            cell["visited"] += n
            if level in SATISFIED:
                cell["satisfied"] += n
    visited = sum(levels.values())
    satisfied = sum(levels[s] for s in SATISFIED)
    rate = _percent(satisfied, visited)
    return {
        "visited": visited,
        "satisfied": satisfied,
        "dissatisfied": levels[Satisfaction.DISSATISFIED],
        "rate": rate,
        "target_percent": t.satisfaction_target_percent,
        "meets_target": (rate >= t.satisfaction_target_percent) if rate is not None else None,
        "by_level": [
            {"level": s, "label": str(label), "count": levels[s]}
            for s, label in Satisfaction.choices
        ],
        "trend": [
            {"date": d.isoformat(), **v, "rate": _percent(v["satisfied"], v["visited"])}
            for d, v in sorted(trend.items())
        ],
    }


def households_in_scope(scope: Scope) -> int:
    areas = ServiceArea.objects.filter(is_active=True)
    if scope.area_type:
        areas = areas.filter(area_type=scope.area_type)
    if scope.unit_id is not None:
        areas = areas.filter(Q(crew_id=scope.unit_id) | Q(station_id=scope.unit_id))
    return int(areas.aggregate(n=Sum("households"))["n"] or 0)


def repeat_rows(scope: Scope, field: str, minimum: int) -> QuerySet:
    return (
        ticket_rows(scope)
        .filter(fault_condition())
        .exclude(**{field: ""})
        .values(field)
        .annotate(faults=Count("pk"))
        .filter(faults__gte=minimum)
        .order_by("-faults", field)
    )


def _repeats(scope: Scope, totals: Totals, field: str, minimum: int) -> list[dict[str, Any]]:
    if totals.places_from_rows:
        return [
            {field: r[field], "faults": r["faults"]}
            for r in repeat_rows(scope, field, minimum)[:20]
        ]
    ranked = sorted(
        ((place, n) for place, n in totals.places[field].items() if n >= minimum),
        key=lambda pair: (-pair[1], pair[0]),
    )
    return [{field: place, "faults": n} for place, n in ranked[:20]]


def _repairs(scope: Scope, totals: Totals, t: Thresholds, repair_orders: int) -> dict[str, Any]:
    own_faults = sum(
        row.get("own_faults", 0)
        for (_day, category, _area, _subtype), row in totals.orders.items()
        if category == Category.REPAIR
    )
    # An outage counts once however many days and orders it spans: counted from the rows,
    # a handful read through the partial index on orders linked to an outage.
    outages = (
        0
        if scope.empty
        else ticket_rows(scope)
        .filter(category=Category.REPAIR, outage__isnull=False)
        .aggregate(n=Count("outage_id", distinct=True))["n"]
    )
    faults = own_faults + outages
    households = households_in_scope(scope)
    return {
        "orders": repair_orders,
        "households": households,
        "per_10000_households": round(repair_orders * 10000 / households, 2)
        if households
        else None,
        "faults": faults,
        "orders_per_fault": round(repair_orders / faults, 2) if faults else None,
        "repeat_by_feeder": _repeats(scope, totals, "feeder", t.repeat_repair_minimum),
        "repeat_by_transformer_area": _repeats(
            scope, totals, "transformer_area", t.repeat_repair_minimum
        ),
    }


def _by_unit(scope: Scope) -> list[dict[str, Any]]:
    """Per handling unit: the handed-back results the centre returned (退单), most first.

    Counted against the unit the result came from (the return's timeline event names it),
    also when the order has since been re-dispatched elsewhere. Always from the rows: there
    are few returns, and the partial index finds them.
    """
    counts = dict(
        return_rows(scope)
        .annotate(unit_id=Cast(KT("data__unit"), IntegerField()))
        .values("unit_id")
        .annotate(returned=Count("id"))
        .values_list("unit_id", "returned")
    )
    units = HandlingUnit.objects.filter(pk__in=[pk for pk in counts if pk is not None]).only(
        "code", "name"
    )
    rows = [{"unit": u.code, "label": u.name, "returned": counts[u.pk]} for u in units]
    return sorted(rows, key=lambda row: (-row["returned"], row["unit"]))


def period_metrics(
    *,
    start: datetime,
    end: datetime,
    category: str = "",
    subtype: str = "",
    area_type: str = "",
    unit: str = "",
    agent: str = "",
    thresholds: Thresholds | None = None,
    now: datetime | None = None,
    use_stored: bool = True,
) -> dict[str, Any]:
    """Every SPEC section 6 period figure for [start, end), as a JSON-serializable dict.

    `start`/`end` are timezone-aware instants (the report page passes Beijing midnights).
    Filters are codes: category code, sub-type code, area type code, handling unit code,
    agent username; an unknown code matches nothing. Rates are percentages (0-100, two
    decimals) or None when nothing was counted; durations are seconds. `thresholds`
    defaults to the admin's MetricSettings; `now` (default: the clock) decides which
    running timers are already late. `use_stored=False` computes everything from the raw
    rows (what the tests compare the stored aggregates with); the figures are the same.
    """
    with transaction.atomic():
        tune_for_reports()
        return _period_metrics(
            start=start,
            end=end,
            category=category,
            subtype=subtype,
            area_type=area_type,
            unit=unit,
            agent=agent,
            thresholds=thresholds,
            now=now,
            use_stored=use_stored,
        )


def tune_for_reports(*, work_mem: str = "64MB") -> None:
    """PostgreSQL settings for this transaction only (SET LOCAL ends with it).

    JIT compilation costs a second or more on these grouped queries and pays off only on
    much longer scans; the window sort of first-contact resolution fits in memory with a
    larger work_mem.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = %s", [work_mem])


def _period_metrics(
    *,
    start: datetime,
    end: datetime,
    category: str,
    subtype: str,
    area_type: str,
    unit: str,
    agent: str,
    thresholds: Thresholds | None,
    now: datetime | None,
    use_stored: bool,
) -> dict[str, Any]:
    t = thresholds or thresholds_current()
    now = now or timezone.now()
    scope = scope_build(
        start=start,
        end=end,
        category=category,
        subtype=subtype,
        area_type=area_type,
        unit=unit,
        agent=agent,
    )
    totals = period_totals(scope, t, use_stored=use_stored)
    calls, calls_by_hour = _call_figures(totals)
    volumes = _volumes(totals)
    for hour_row, call_row in zip(volumes["by_hour"], calls_by_hour, strict=True):
        hour_row.update(calls=call_row["calls"], service_level=call_row["service_level"])
    volumes["calls"] = calls["offered"]
    repair_orders = next(
        c["count"] for c in volumes["by_category"] if c["category"] == Category.REPAIR
    )
    compliance = _compliance(totals, timer_sums_running(scope, now))
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "filters": dict(scope.filters),
        "calls_filtered_by": ["agent"],
        "thresholds": _json_ready(asdict(t)),
        "calls": calls,
        "dispatch": _dispatch(totals, t),
        "arrival": compliance["arrival"],
        "restoration": compliance["restoration"],
        "reply": compliance["reply"],
        "callback": compliance["callback"],
        "compliance_available": compliance["available"],
        "satisfaction": _satisfaction(totals, t),
        "repairs": _repairs(scope, totals, t, repair_orders),
        "volumes": volumes,
        "by_unit": _by_unit(scope),
        # Where the figures came from: stored days (as of their oldest build) and the
        # ranges summed from the rows, on the Beijing clock.
        "sources": {
            "stored_days": totals.stored_days,
            "stored_as_of": _beijing_iso(totals.oldest_build),
            "computed_from_rows": [
                {"start": _beijing_iso(s), "end": _beijing_iso(e)} for s, e in totals.live_ranges
            ],
        },
    }


def _beijing_iso(value: datetime | None) -> str | None:
    return value.astimezone(BEIJING).isoformat() if value is not None else None


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value
