"""The period figures supervisors watch (SPEC section 6), computed from the raw rows.

`period_metrics` is the one entry point: the report page, its exports and the REST API's
GET /api/v1/metrics/ all call it, so a figure never means two things. Every figure is built
from a named row set (`call_rows`, `ticket_rows`, `timer_rows` and the `Q` objects below);
the drill-down pages list exactly those rows, so "47 abandoned calls" opens 47 calls.

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
      at least 95 % of the orders do not exceed) and the share within `dispatch_target_seconds`.
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
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractHour, TruncDate
from django.utils import timezone

from calls.models import Call
from customers.models import AreaType, HandlingUnit, ServiceArea
from tickets.models import Category, Satisfaction, SubType, Ticket, TicketEvent

BEIJING = ZoneInfo("Asia/Shanghai")
SATISFIED = (Satisfaction.VERY_SATISFIED.value, Satisfaction.SATISFIED.value)
# The SLA timers whose compliance the report shows, and the order time that proves the
# timer stopped because the work was done (not because the order was cancelled or merged).
COMPLIANCE_TIMERS: dict[str, str] = {
    "arrival": "arrived_at",
    "restoration": "restored_at",
    "reply": "replied_at",
    "callback": "replied_at",
}
ZERO = timedelta(0)


@dataclass(frozen=True)
class Thresholds:
    """What the figures are measured against. Defaults: SPEC sections 4 and 6."""

    service_level_seconds: int = 12
    short_abandon_seconds: int = 5
    first_contact_window_hours: int = 24
    satisfaction_target_percent: float = 90.0
    dispatch_target_seconds: int = 180
    repeat_repair_minimum: int = 2


def thresholds_current() -> Thresholds:
    """The thresholds an administrator set in the admin (MetricSettings), or the defaults."""
    from dashboard.models import MetricSettings

    row = MetricSettings.objects.order_by("pk").first()
    if row is None:
        return Thresholds()
    return Thresholds(
        service_level_seconds=row.service_level_seconds,
        short_abandon_seconds=row.short_abandon_seconds,
        first_contact_window_hours=row.first_contact_window_hours,
        satisfaction_target_percent=float(row.satisfaction_target_percent),
        dispatch_target_seconds=row.dispatch_target_seconds,
        repeat_repair_minimum=row.repeat_repair_minimum,
    )


@dataclass(frozen=True)
class Scope:
    """A period and its filters, with codes already turned into ids.

    `empty` is set when a filter names something that does not exist: nothing matches.
    """

    start: datetime
    end: datetime
    category: str = ""
    subtype_id: int | None = None
    area_type: str = ""
    unit_id: int | None = None
    agent_id: int | None = None
    empty: bool = False
    filters: tuple[tuple[str, str], ...] = ()


def scope_build(
    *,
    start: datetime,
    end: datetime,
    category: str = "",
    subtype: str = "",
    area_type: str = "",
    unit: str = "",
    agent: str = "",
) -> Scope:
    """Resolve the filter codes (sub-type code, unit code, agent username) to ids."""
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("start and end must be timezone-aware")
    empty = bool(category and category not in Category.values) or bool(
        area_type and area_type not in AreaType.values
    )
    subtype_id = unit_id = agent_id = None
    if subtype:
        subtype_id = SubType.objects.filter(code=subtype).values_list("pk", flat=True).first()
        empty = empty or subtype_id is None
    if unit:
        unit_id = HandlingUnit.objects.filter(code=unit).values_list("pk", flat=True).first()
        empty = empty or unit_id is None
    if agent:
        agent_id = (
            get_user_model().objects.filter(username=agent).values_list("pk", flat=True).first()
        )
        empty = empty or agent_id is None
    filters = tuple(
        (name, value)
        for name, value in (
            ("category", category),
            ("subtype", subtype),
            ("area_type", area_type),
            ("unit", unit),
            ("agent", agent),
        )
        if value
    )
    return Scope(
        start=start,
        end=end,
        category=category,
        subtype_id=subtype_id,
        area_type=area_type,
        unit_id=unit_id,
        agent_id=agent_id,
        empty=empty,
        filters=filters,
    )


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
    done_by_event = Q()
    for index, (name, field) in enumerate(COMPLIANCE_TIMERS.items()):
        clause = Q(name=name, **{f"ticket__{field}__isnull": False})
        done_by_event = clause if index == 0 else done_by_event | clause
    on_time = (
        Q(breached_at__isnull=True, stopped_at__isnull=False, stopped_at__lte=F("due_at"))
        & done_by_event
    )
    late = (
        Q(breached_at__isnull=False)
        | Q(stopped_at__gt=F("due_at"))
        | Q(stopped_at__isnull=True, due_at__lte=now)
    )
    return {"on_time": on_time, "late": late}


def fault_condition() -> Q:
    return Q(category=Category.REPAIR, master__isnull=True, outage__isnull=True)


# --- Small helpers -------------------------------------------------------------------------


def _percent(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


def _seconds(value: timedelta | None) -> float | None:
    return round(value.total_seconds(), 1) if value is not None else None


class _PercentileDisc(Aggregate):
    """PostgreSQL's percentile_disc: the nearest-rank percentile, computed in the database."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, *, fraction: float, **extra):
        super().__init__(expression, fraction=fraction, **extra)


def nearest_rank(values: list[float], fraction: float) -> float | None:
    """The smallest value that at least `fraction` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def _dispatch_p95(rows: QuerySet[Ticket]) -> timedelta | None:
    if connection.vendor == "postgresql":
        return rows.aggregate(
            p95=_PercentileDisc("dispatch_time", fraction=0.95, output_field=DurationField())
        )["p95"]
    # The embedded SQLite default has no percentile function; its data sets are small.
    values = [d.total_seconds() for d in rows.values_list("dispatch_time", flat=True)]
    found = nearest_rank(values, 0.95)
    return timedelta(seconds=found) if found is not None else None


# --- Figures --------------------------------------------------------------------------------


def _call_figures(scope: Scope, t: Thresholds) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    cond = call_conditions(t)
    wait = ExpressionWrapper(F("answer_at") - F("ring_at"), output_field=DurationField())
    rows = (
        call_rows(scope)
        .annotate(hour=ExtractHour("ring_at", tzinfo=BEIJING))
        .values("hour")
        .annotate(
            **{name: Count("pk", filter=q) if q else Count("pk") for name, q in cond.items()},
            wait_total=Sum(wait, filter=cond["answered"]),
        )
        .order_by("hour")
    )
    totals: dict[str, Any] = {name: 0 for name in cond}
    wait_total = ZERO
    by_hour: dict[int, dict[str, Any]] = {}
    for row in rows:
        for name in cond:
            totals[name] += row[name]
        wait_total += row["wait_total"] or ZERO
        base = row["answered"] + row["abandoned"]
        by_hour[row["hour"]] = {
            "calls": row["offered"],
            "answered": row["answered"],
            "service_level": _percent(row["within_threshold"], base),
        }
    base = totals["answered"] + totals["abandoned"]
    figures = {
        **totals,
        "rate_base": base,
        "answer_rate": _percent(totals["answered"], base),
        "service_level": _percent(totals["within_threshold"], base),
        "abandonment_rate": _percent(totals["abandoned"], base),
        "average_speed_of_answer_seconds": (
            round(wait_total.total_seconds() / totals["answered"], 1)
            if totals["answered"]
            else None
        ),
    }
    return figures, [
        {"hour": h, **by_hour.get(h, {"calls": 0, "answered": 0, "service_level": None})}
        for h in range(24)
    ]


def first_contact_sql(scope: Scope, t: Thresholds, *, select: str) -> tuple[str, list[Any]]:
    """SQL over answered calls of the period with `next_ring`: when the same number rang next.

    A window function (LEAD) finds each call's next call from the same number in one pass;
    the inner range reaches past the end of the period by the window so that a repeat
    shortly after the period still counts. Used for the figure and for its drill-down.
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
    sql = f"""
        SELECT {select.format(repeated=repeated)}
        FROM (
            SELECT c.id, c.ring_at, c.answer_at, c.agent_id,
                   LEAD(c.ring_at) OVER (PARTITION BY c.caller_phone ORDER BY c.ring_at, c.id) AS next_ring
            FROM {table} c
            WHERE c.caller_phone <> '' AND c.ring_at >= %s AND c.ring_at < %s
        ) s
        WHERE s.ring_at >= %s AND s.ring_at < %s AND s.answer_at IS NOT NULL {agent_clause}
    """
    select_params = repeat_params if "{repeated}" in select else []
    params = [
        *select_params,
        scope.start,
        scope.end + window,
        scope.start,
        scope.end,
        *agent_params,
    ]
    return sql, params


def _first_contact(scope: Scope, t: Thresholds) -> dict[str, Any]:
    if scope.empty:
        return {"base": 0, "repeated": 0, "resolved": 0, "rate": None}
    sql, params = first_contact_sql(
        scope, t, select="COUNT(*), COALESCE(SUM(CASE WHEN {repeated} THEN 1 ELSE 0 END), 0)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        base, repeated = cursor.fetchone()
    base, repeated = int(base or 0), int(repeated or 0)
    return {
        "base": base,
        "repeated": repeated,
        "resolved": base - repeated,
        "rate": _percent(base - repeated, base),
    }


def _volumes(scope: Scope) -> dict[str, Any]:
    rows = (
        ticket_rows(scope)
        .annotate(hour=ExtractHour("created_at", tzinfo=BEIJING))
        .values("hour", "category", "area_type")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_hour: dict[int, int] = defaultdict(int)
    by_hour_category: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_category: dict[str, int] = defaultdict(int)
    by_area: dict[str, int] = defaultdict(int)
    total = 0
    for row in rows:
        total += row["n"]
        by_hour[row["hour"]] += row["n"]
        by_hour_category[row["hour"]][row["category"]] += row["n"]
        by_category[row["category"]] += row["n"]
        by_area[row["area_type"]] += row["n"]
    subtypes = (
        ticket_rows(scope)
        .filter(subtype__isnull=False)
        .values(
            "subtype__code", "subtype__name", "subtype__category", "subtype__counted_separately"
        )
        .annotate(n=Count("pk"))
        .order_by("-n", "subtype__code")
    )
    return {
        "orders": total,
        "by_hour": [
            {
                "hour": h,
                "orders": by_hour.get(h, 0),
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
                "subtype": r["subtype__code"],
                "label": r["subtype__name"],
                "category": r["subtype__category"],
                "counted_separately": r["subtype__counted_separately"],
                "count": r["n"],
            }
            for r in subtypes
        ],
    }


def _dispatch(scope: Scope, t: Thresholds) -> dict[str, Any]:
    rows = dispatch_rows(scope)
    target = timedelta(seconds=t.dispatch_target_seconds)
    aggregates = {
        "count": Count("pk"),
        "average": Avg("dispatch_time"),
        "within": Count("pk", filter=Q(dispatch_time__lte=target)),
    }
    if connection.vendor == "postgresql":
        # In the same pass as the average: the percentile is an ordered-set aggregate.
        aggregates["p95"] = _PercentileDisc(
            "dispatch_time", fraction=0.95, output_field=DurationField()
        )
    agg = rows.aggregate(**aggregates)
    p95 = agg.get("p95") if "p95" in agg else (_dispatch_p95(rows) if agg["count"] else None)
    average = agg["average"]
    return {
        "count": agg["count"],
        "average_seconds": _seconds(average),
        "p95_seconds": _seconds(p95) if agg["count"] else None,
        "within_target": agg["within"],
        "beyond_target": agg["count"] - agg["within"],
        "within_target_rate": _percent(agg["within"], agg["count"]),
        "target_seconds": t.dispatch_target_seconds,
        "average_meets_target": (average <= target) if average is not None else None,
    }


def _compliance(scope: Scope, now: datetime) -> dict[str, Any]:
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
    cond = timer_conditions(now)
    rows = (
        timer_rows(scope)
        .values("name", "ticket__area_type", "ticket__category")
        .annotate(
            on_time=Count("pk", filter=cond["on_time"]), late=Count("pk", filter=cond["late"])
        )
        .order_by()
    )

    def add(cell: dict[str, Any], row: dict[str, Any]) -> None:
        cell["on_time"] += row["on_time"]
        cell["late"] += row["late"]
        cell["total"] = cell["on_time"] + cell["late"]
        cell["rate"] = _percent(cell["on_time"], cell["total"])

    for row in rows:
        name = row["name"]
        if name in ("arrival", "restoration"):
            add(result[name]["by_area_type"][row["ticket__area_type"]], row)
            add(result[name]["total"], row)
        elif name == "reply" and row["ticket__category"] in result["reply"]:
            add(result["reply"][row["ticket__category"]], row)
        elif name == "callback":
            add(result["callback"], row)
    return result


def _satisfaction(scope: Scope, t: Thresholds) -> dict[str, Any]:
    rows = (
        ticket_rows(scope)
        .exclude(satisfaction="")
        .annotate(day=TruncDate("created_at", tzinfo=BEIJING))
        .values("day", "satisfaction")
        .annotate(n=Count("pk"))
        .order_by("day")
    )
    levels: dict[str, int] = {s: 0 for s in Satisfaction.values}
    trend: dict[date, dict[str, int]] = {}
    for row in rows:
        levels[row["satisfaction"]] += row["n"]
        day = trend.setdefault(row["day"], {"visited": 0, "satisfied": 0})
        day["visited"] += row["n"]
        if row["satisfaction"] in SATISFIED:
            day["satisfied"] += row["n"]
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


def _repairs(scope: Scope, t: Thresholds, repair_orders: int) -> dict[str, Any]:
    agg = (
        ticket_rows(scope)
        .filter(category=Category.REPAIR)
        .aggregate(
            own_faults=Count("pk", filter=fault_condition()),
            outages=Count("outage_id", distinct=True),
        )
    )
    faults = agg["own_faults"] + agg["outages"]
    households = households_in_scope(scope)
    return {
        "orders": repair_orders,
        "households": households,
        "per_10000_households": round(repair_orders * 10000 / households, 2)
        if households
        else None,
        "faults": faults,
        "orders_per_fault": round(repair_orders / faults, 2) if faults else None,
        "repeat_by_feeder": [
            {"feeder": r["feeder"], "faults": r["faults"]}
            for r in repeat_rows(scope, "feeder", t.repeat_repair_minimum)[:20]
        ],
        "repeat_by_transformer_area": [
            {"transformer_area": r["transformer_area"], "faults": r["faults"]}
            for r in repeat_rows(scope, "transformer_area", t.repeat_repair_minimum)[:20]
        ],
    }


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
) -> dict[str, Any]:
    """Every SPEC section 6 period figure for [start, end), as a JSON-serializable dict.

    `start`/`end` are timezone-aware instants (the report page passes Beijing midnights).
    Filters are codes: category code, sub-type code, area type code, handling unit code,
    agent username; an unknown code matches nothing. Rates are percentages (0-100, two
    decimals) or None when nothing was counted; durations are seconds. `thresholds`
    defaults to the admin's MetricSettings; `now` (default: the clock) decides which
    running timers are already late.
    """
    with transaction.atomic():
        _tune_for_reports()
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
        )


def _tune_for_reports() -> None:
    """PostgreSQL settings for this transaction only (SET LOCAL ends with it).

    JIT compilation costs about 200 ms per query and pays off only on much longer scans;
    the window sort of first-contact resolution fits in memory with a larger work_mem.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL work_mem = '64MB'")


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
    calls, calls_by_hour = _call_figures(scope, t)
    calls["first_contact"] = _first_contact(scope, t)
    volumes = _volumes(scope)
    for hour_row, call_row in zip(volumes["by_hour"], calls_by_hour, strict=True):
        hour_row.update(calls=call_row["calls"], service_level=call_row["service_level"])
    volumes["calls"] = calls["offered"]
    repair_orders = next(
        c["count"] for c in volumes["by_category"] if c["category"] == Category.REPAIR
    )
    compliance = _compliance(scope, now)
    return {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "filters": dict(scope.filters),
        "calls_filtered_by": ["agent"],
        "thresholds": _json_ready(asdict(t)),
        "calls": calls,
        "dispatch": _dispatch(scope, t),
        "arrival": compliance["arrival"],
        "restoration": compliance["restoration"],
        "reply": compliance["reply"],
        "callback": compliance["callback"],
        "compliance_available": compliance["available"],
        "satisfaction": _satisfaction(scope, t),
        "repairs": _repairs(scope, t, repair_orders),
        "volumes": volumes,
    }


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value
