"""What every figure shares: the thresholds in force, the scope of a report (period and
filters), the Beijing day, and the nearest-rank percentile."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from customers.models import AreaType, HandlingUnit
from tickets.models import Category, Satisfaction, SubType

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
