"""Reads of outages: what an outage covers, which one covers a caller, the register pages,
and what the wallboard shows about them.

Outages at any moment number in the tens, so matching a caller against the active ones is
done here in Python over one query (portable between SQLite and PostgreSQL, where a JSON
containment filter is not); the customers an outage covers are counted in the database on
the indexed service area, feeder and transformer-area columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from customers.models import Customer
from outages.models import (
    FrequentLevel,
    FrequentOutageLevel,
    Outage,
    OutageEvent,
    OutageNotice,
    OutageTimer,
)
from tickets.models import Ticket

BEIJING = ZoneInfo("Asia/Shanghai")
# The register shows ended outages of this many days back (older ones are in the admin).
ENDED_SHOWN_FOR = timedelta(days=30)
LIST_LIMIT = 100
IMPORTANT_SHOWN = 100
# The wallboard counts each active outage's calls in 5-minute slots over the last hour.
SLOT = timedelta(minutes=5)
SLOTS = 12


# --- Coverage ----------------------------------------------------------------------------------


def _covering_condition(
    *, service_area_ids: Iterable[int], feeders: Iterable[str], transformer_areas: Iterable[str]
) -> Q:
    condition = Q(pk__in=[])
    areas = [pk for pk in service_area_ids if pk]
    feeder_list = [f for f in feeders if f]
    transformer_list = [t for t in transformer_areas if t]
    if areas:
        condition |= Q(service_area_id__in=areas)
    if feeder_list:
        condition |= Q(feeder__in=feeder_list)
    if transformer_list:
        condition |= Q(transformer_area__in=transformer_list)
    return condition


def customers_covered(
    *, service_area_ids: Iterable[int], feeders: Iterable[str], transformer_areas: Iterable[str]
) -> QuerySet[Customer]:
    """The customers in any of these service areas, on any of these feeders or in any of
    these transformer areas (台区) — the same rule as `Outage.covers`."""
    return Customer.objects.filter(
        _covering_condition(
            service_area_ids=service_area_ids,
            feeders=feeders,
            transformer_areas=transformer_areas,
        )
    )


@dataclass(frozen=True)
class Coverage:
    customers: int
    important: int


def coverage_count(
    *, service_area_ids: Iterable[int], feeders: Iterable[str], transformer_areas: Iterable[str]
) -> Coverage:
    """How many customers the outage reaches, and how many of them are important: one query."""
    counts = customers_covered(
        service_area_ids=list(service_area_ids),
        feeders=list(feeders),
        transformer_areas=list(transformer_areas),
    ).aggregate(customers=Count("pk"), important=Count("pk", filter=Q(is_important=True)))
    return Coverage(customers=counts["customers"], important=counts["important"])


def outage_customers_covered(outage: Outage) -> QuerySet[Customer]:
    return customers_covered(
        service_area_ids=[area.pk for area in outage.service_areas.all()],
        feeders=outage.feeders,
        transformer_areas=outage.transformer_areas,
    )


def outage_active_covering(
    *, service_area_id: int | None, feeder: str, transformer_area: str, now: datetime
) -> Outage | None:
    """The active outage (started, power not back) that reaches a caller with these
    attributes, the earliest started first; None when there is none.

    One query, asked on every repair the API takes: the coverage rule of `Outage.covers`
    written as a WHERE clause (the outage's areas, or its feeders or transformer areas
    holding the caller's), so no outage is loaded that does not cover the caller, however
    many are on during a storm.
    """
    reach = Q()
    if service_area_id is not None:
        reach |= Q(
            pk__in=Outage.service_areas.through.objects.filter(
                servicearea_id=service_area_id
            ).values("outage_id")
        )
    if feeder:
        reach |= Q(feeders__has_item=feeder)
    if transformer_area:
        reach |= Q(transformer_areas__has_item=transformer_area)
    if not reach:
        return None
    return (
        Outage.objects.filter(reach, restored_at__isnull=True, starts_at__lte=now)
        .order_by("starts_at", "pk")
        .first()
    )


# --- Frequent outages (频繁停电) ----------------------------------------------------------------
# Counted over the rolling window of the active `FrequentOutageLevel`: the outages that
# *started* in [now - window, now] (announced ones not yet started do not count), whatever
# their kind and whether power is back. A customer's count follows the coverage rule above;
# a feeder's or transformer area's count is the outages that name it on the register.


def frequent_levels_current() -> FrequentOutageLevel | None:
    """The active levels (one query); None when an administrator switched them off."""
    return FrequentOutageLevel.objects.filter(is_active=True).first()


@dataclass(frozen=True)
class OutageFrequency:
    """How many outages reached something in the window, and the level that makes."""

    count: int
    level: str  # FrequentLevel value, or "" below the warning level
    window_days: int

    @property
    def is_frequent(self) -> bool:
        return self.level == FrequentLevel.FREQUENT


def _window(levels: FrequentOutageLevel, now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(days=levels.window_days), now


def outage_frequency_for_customer(
    *, customer: Customer, now: datetime, levels: FrequentOutageLevel | None
) -> OutageFrequency | None:
    """The outages that reached this customer in the window, counted in one query on the
    start index: its service area (through the outages' area table), its feeder or its
    transformer area listed on the outage (`has_item`, outages/lookups.py)."""
    if levels is None:
        return None
    since, until = _window(levels, now)
    reached = Q(
        pk__in=Outage.service_areas.through.objects.filter(
            servicearea_id=customer.service_area_id
        ).values("outage_id")
    )
    if customer.feeder:
        reached |= Q(feeders__has_item=customer.feeder)
    if customer.transformer_area:
        reached |= Q(transformer_areas__has_item=customer.transformer_area)
    count = Outage.objects.filter(reached, starts_at__gte=since, starts_at__lte=until).count()
    return OutageFrequency(
        count=count, level=levels.level_of(count), window_days=levels.window_days
    )


@dataclass(frozen=True)
class RankedPlace:
    """A feeder or transformer area and the outages naming it in the window."""

    name: str
    outages: int
    level: str


RANKED = {"feeders", "transformer_areas"}


def outage_ranking(
    *, column: str, now: datetime, levels: FrequentOutageLevel, limit: int = 20
) -> list[RankedPlace]:
    """Feeders (`column="feeders"`) or transformer areas (`"transformer_areas"`) by the
    outages started in the window that name them, most first: one grouped query that
    unfolds each outage's JSON list in the database (PostgreSQL's
    `jsonb_array_elements_text`, SQLite's `json_each`) over the start index."""
    if column not in RANKED:
        raise ValueError(column)
    since, until = _window(levels, now)
    table = connection.ops.quote_name(Outage._meta.db_table)
    field = connection.ops.quote_name(column)
    if connection.vendor == "postgresql":
        unfold = f"CROSS JOIN LATERAL jsonb_array_elements_text(o.{field}) AS item(value)"
    else:
        unfold = f"CROSS JOIN json_each(o.{field}) AS item"
    starts = connection.ops.quote_name("starts_at")
    sql = (
        f"SELECT item.value, COUNT(DISTINCT o.id) AS n FROM {table} o {unfold} "
        f"WHERE o.{starts} >= %s AND o.{starts} <= %s AND item.value <> '' "
        "GROUP BY item.value ORDER BY n DESC, item.value LIMIT %s"
    )
    params = [
        connection.ops.adapt_datetimefield_value(since),
        connection.ops.adapt_datetimefield_value(until),
        limit,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [RankedPlace(name=name, outages=n, level=levels.level_of(n)) for name, n in rows]


# --- The register pages ------------------------------------------------------------------------


def _linked_counts(qs: QuerySet[Outage]) -> QuerySet[Outage]:
    """Each outage with the number of orders and of distinct calls linked to it, as
    subqueries (joining both would multiply the rows of a storm of thousands of calls)."""
    orders = (
        Ticket.objects.filter(outage=OuterRef("pk"))
        .order_by()
        .values("outage")
        .annotate(n=Count("pk"))
        .values("n")
    )
    calls = (
        Ticket.objects.filter(outage=OuterRef("pk"), call__isnull=False)
        .order_by()
        .values("outage")
        .annotate(n=Count("call", distinct=True))
        .values("n")
    )
    overdue = (
        OutageTimer.objects.filter(outage=OuterRef("pk"), breached_at__isnull=False)
        .order_by()
        .values("outage")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return qs.annotate(
        linked_orders=Coalesce(Subquery(orders, output_field=IntegerField()), 0),
        linked_calls=Coalesce(Subquery(calls, output_field=IntegerField()), 0),
        timers_breached=Coalesce(Subquery(overdue, output_field=IntegerField()), 0),
    )


@dataclass
class OutageRegister:
    """The outage register: active outages, then announced ones, then recently ended ones."""

    active: list[Outage] = field(default_factory=list)
    announced: list[Outage] = field(default_factory=list)
    ended: list[Outage] = field(default_factory=list)


def outage_register_list(*, now: datetime, limit: int = LIST_LIMIT) -> OutageRegister:
    """Four queries whatever the number of outages and calls: the outages not over (active
    and announced, a few dozen at most) and those ended in the last 30 days, each with its
    counts and its crew dispatch, then the service areas of them all."""

    def listed(qs: QuerySet[Outage]) -> QuerySet[Outage]:
        return _linked_counts(qs).select_related("dispatch__unit")

    not_over = list(
        listed(Outage.objects.filter(restored_at__isnull=True)).order_by("starts_at", "pk")[
            : limit * 2
        ]
    )
    ended = list(
        listed(Outage.objects.filter(restored_at__gte=now - ENDED_SHOWN_FOR)).order_by(
            "-restored_at", "-pk"
        )[:limit]
    )
    prefetch_related_objects([*not_over, *ended], Prefetch("service_areas", to_attr="area_list"))
    return OutageRegister(
        # Active: the longest-running first; announced: the soonest first; ended: latest first.
        active=[o for o in not_over if o.starts_at <= now][:limit],
        announced=[o for o in not_over if o.starts_at > now][:limit],
        ended=ended,
    )


def outage_get(*, number: str) -> Outage:
    outage = (
        _linked_counts(Outage.objects.filter(number=number))
        .select_related(
            "dispatch__unit",
            "created_by",
            "notice_override_by",
            "reported_to_authority_by",
            "restoration_recorded_by",
        )
        .first()
    )
    if outage is None:
        raise Http404(number)
    return outage


def outage_get_for_page(*, number: str) -> Outage:
    """The outage with its areas, important customers covered, timers and history."""
    outage = outage_get(number=number)
    outage.area_list = list(outage.service_areas.order_by("code"))
    covered = customers_covered(
        service_area_ids=[a.pk for a in outage.area_list],
        feeders=outage.feeders,
        transformer_areas=outage.transformer_areas,
    )
    outage.important_list = list(
        covered.filter(is_important=True)
        .select_related("service_area")
        .order_by("name", "pk")[:IMPORTANT_SHOWN]
    )
    outage.timer_list = list(outage.timers.select_related("rule").order_by("started_at", "pk"))
    outage.event_list = list(
        OutageEvent.objects.filter(outage=outage).select_related("actor").order_by("at", "pk")
    )
    outage.notice_counts = outage_notice_counts(outage=outage)
    return outage


@dataclass(frozen=True)
class NoticeCounts:
    sent: int = 0
    pending: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed


def outage_notice_counts(*, outage: Outage) -> NoticeCounts:
    """The outage's text messages to customers by state, every event together: one query
    on (outage, state)."""
    counts = dict(
        OutageNotice.objects.filter(outage=outage)
        .values_list("state")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("state", "n")
    )
    return NoticeCounts(
        sent=counts.get(OutageNotice.State.SENT, 0),
        pending=counts.get(OutageNotice.State.PENDING, 0),
        failed=counts.get(OutageNotice.State.FAILED, 0),
    )


# --- The wallboard -----------------------------------------------------------------------------


def outage_reporting_overdue(*, now: datetime, limit: int = 30) -> list[Outage]:
    """Outages with reporting overdue, in one query: those covering an important customer
    whose report to the power authority is not recorded (overdue from their registration),
    and those with a reporting clock past its due time and still running — each with the
    earliest such clock as `overdue_timer_name` / `overdue_timer_due`. Both conditions are
    served by partial indexes, so the wall screen's refresh never reads all outages."""
    overdue = OutageTimer.objects.filter(
        outage=OuterRef("pk"), stopped_at__isnull=True, due_at__lt=now
    ).order_by("due_at", "pk")
    running_late = OutageTimer.objects.filter(stopped_at__isnull=True, due_at__lt=now)
    return list(
        Outage.objects.filter(
            Q(affects_important_customers=True, reported_to_authority=False)
            | Q(pk__in=running_late.values("outage_id"))
        )
        .annotate(
            overdue_timer_name=Subquery(overdue.values("name")[:1]),
            overdue_timer_due=Subquery(overdue.values("due_at")[:1]),
        )
        .order_by("starts_at", "pk")[:limit]
    )


@dataclass(frozen=True)
class Slot:
    starts_at: datetime
    calls: int
    heat: int  # 0–4, for the colour of the cell


def slot_starts(*, now: datetime) -> list[datetime]:
    """The starts of the last hour's 5-minute slots, aligned on the Beijing clock
    (10:00–10:05, …), oldest first; the last one is the slot now running."""
    local = now.astimezone(BEIJING)
    current = local.replace(minute=local.minute - local.minute % 5, second=0, microsecond=0)
    return [current - SLOT * (SLOTS - 1 - i) for i in range(SLOTS)]


def slot_counts(*, starts: Sequence[datetime]) -> dict[str, Count]:
    """Annotations for an Outage queryset already joined to its orders: the orders linked
    in each slot (one call each). Added to the wallboard's outage query, they cost no query
    of their own."""
    return {
        f"slot_{i}": Count(
            "tickets",
            filter=Q(tickets__created_at__gte=start, tickets__created_at__lt=start + SLOT),
        )
        for i, start in enumerate(starts)
    }


def slots_of(outage: Outage, *, starts: Sequence[datetime]) -> list[Slot]:
    values = [getattr(outage, f"slot_{i}", 0) or 0 for i in range(len(starts))]
    peak = max(values, default=0) or 1
    return [
        Slot(starts_at=start, calls=value, heat=0 if not value else 1 + (3 * value) // peak)
        for start, value in zip(starts, values, strict=True)
    ]
