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
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
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
from dashboard.models import (
    HOUR_FIELDS,
    AggregateDay,
    AggregatePart,
    CallHour,
    DispatchBucket,
    OrderDay,
    RepairPlace,
)
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

    # Without a saved row, an unsaved one carries the model's defaults: one source of them.
    row = MetricSettings.objects.order_by("pk").first() or MetricSettings()
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
    empty = bool(category and category not in Category) or bool(
        area_type and area_type not in AreaType
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


# --- Small helpers -------------------------------------------------------------------------


def nearest_rank(values: list[float], fraction: float) -> float | None:
    """The smallest value that at least `fraction` of the values do not exceed."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def nearest_rank_counted(counts: dict[int, int], fraction: float) -> int | None:
    """`nearest_rank` over a histogram {value: how many}: the same answer without the list."""
    total = sum(counts.values())
    if not total:
        return None
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return None  # pragma: no cover - seen reaches total


def dispatch_bucket(duration: timedelta) -> int:
    """The fixed bucket of a dispatch time, as its upper bound in whole seconds.

    Whole seconds up to ten minutes (where the 3-minute target lives), whole minutes up to a
    day, whole hours beyond; always rounded up, so "within N seconds" is exact for N up to
    600 and the 95th percentile is never flattered. Integer arithmetic on microseconds: a
    float would put 120.000001 s and 120 s in the same bucket on some platforms.
    """
    micros = max(0, duration // timedelta(microseconds=1))
    for limit, width in ((600, 1), (86_400, 60)):
        if micros <= limit * 1_000_000:
            return -(-micros // (width * 1_000_000)) * width
    return -(-micros // 3_600_000_000) * 3600


def _micros(value: timedelta | None) -> int:
    return value // timedelta(microseconds=1) if value is not None else 0


def beijing_day(instant: datetime) -> date:
    return instant.astimezone(BEIJING).date()


def day_start(day: date) -> datetime:
    """Midnight in Beijing (no daylight saving: every day is 24 hours long)."""
    return datetime.combine(day, time(), tzinfo=BEIJING)


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
