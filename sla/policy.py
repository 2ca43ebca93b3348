"""Deadline arithmetic for the 95598 time limits: pure functions, no database, no clock.

Everything here takes the moment a timer started and returns the moment it falls due.
Nothing reads the current time or the ORM, so the same inputs always give the same
answer and every rule can be tested on its own. Callers load the rule (a ``Limit``) and
the holiday table (a ``WorkCalendar``, built with ``calendar_from_rows``) and store the
resulting due time on the order.

Time zones
    Inputs may be in any time zone but must be timezone-aware; outputs are always UTC.
    Day-based arithmetic is done on the Beijing wall clock (Asia/Shanghai), because the
    regulations count days as people in China see them on the wall.

Units
    ``seconds`` / ``minutes`` / ``hours``
        Plain elapsed time: start + amount.
    ``calendar_days``
        The same Beijing wall-clock time ``amount`` days later.
    ``working_days``
        Counted with China's official calendar: statutory holidays (法定节假日) are days
        off even on Monday-Friday, and adjusted working days (调休上班) are working days
        even on a weekend.

        * A start on a working day: the due time is the same Beijing wall-clock time on
          the ``amount``-th working day after the start date. Tuesday 10:00 + 1 working
          day = Wednesday 10:00.
        * A start on a day off (weekend or holiday): nobody is at work to start the
          clock, so it starts at 00:00 Beijing of the next working day, and that day is
          working day 1. The due time is the *end* of working day ``amount``, i.e.
          24:00 of that day, which we write as 00:00 Beijing of the following day.
          Saturday 14:00 + 1 working day = end of Monday = Tuesday 00:00.
          This keeps deadlines monotonic: a later start never gives an earlier due
          time (Friday 23:59 + 1 -> Monday 23:59; Saturday -> Tuesday 00:00).
        * An amount of 0 means "due at the start" for every unit, on any day.

Holiday data runs out
    The published calendar only runs a year or so ahead. A day outside the calendar's
    coverage is treated as Monday-Friday working / weekend off, and the ``Deadline`` is
    marked ``estimated=True`` so supervisors can be warned. This never raises: a caller
    is never turned away because the holiday table is short.

Pauses and appointments (``shift_due``) move the due time by exactly their elapsed
length, whatever the unit of the limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

__all__ = [
    "BEIJING",
    "EMPTY_CALENDAR",
    "Deadline",
    "Limit",
    "Unit",
    "WorkCalendar",
    "at_risk_at",
    "calendar_from_rows",
    "china_calendar_rows",
    "due_at",
    "shift_due",
]

# Why Beijing time and not UTC: the regulations count days on the Beijing wall clock.
# China has no DST, so the offset is a constant +08:00, but a UTC-based day boundary
# would still be wrong: 07:00 Beijing on Monday is 23:00 UTC on Sunday, so counting
# on the UTC date would treat a Monday-morning order as if it arrived on the weekend.
# We therefore convert to Beijing, count dates there, and convert the answer back to UTC.
BEIJING = ZoneInfo("Asia/Shanghai")

_ONE_DAY = timedelta(days=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


class Unit(StrEnum):
    """The unit a time limit is expressed in (stored as this string in rule tables)."""

    SECONDS = "seconds"
    MINUTES = "minutes"
    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


@dataclass(frozen=True)
class Limit:
    """A time limit: ``amount`` (a whole number, >= 0) of ``unit``.

    Examples: rural repair arrival ``Limit(85, Unit.MINUTES)``, complaint reply
    ``Limit(5, Unit.CALENDAR_DAYS)`` or ``Limit(7, Unit.WORKING_DAYS)``.
    A plain string unit (as read from a database column) is converted to ``Unit``.
    """

    amount: int
    unit: Unit

    def __post_init__(self) -> None:
        # bool is an int subclass; Limit(True, ...) is a bug, not "1".
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Limit amount must be an int, got {self.amount!r}")
        if self.amount < 0:
            raise ValueError(f"Limit amount must be >= 0, got {self.amount}")
        # Frozen dataclass: normalise via object.__setattr__. Unit("...") raises
        # ValueError for an unknown unit, so bad rule data fails here, not mid-count.
        object.__setattr__(self, "unit", Unit(self.unit))


@dataclass(frozen=True)
class WorkCalendar:
    """China's official working-day calendar over a known range of Beijing dates.

    ``holidays`` are official days off (法定节假日 and the weekend days inside a holiday
    block); ``workdays`` are adjusted working days (调休上班), usually weekends.
    ``covers_from`` / ``covers_to`` (inclusive, Beijing dates) is the range the
    published data covers; both ``None`` means there is no data at all.
    Ordinary weekends are not listed: outside holidays, Monday-Friday is working.
    """

    holidays: frozenset[date]
    workdays: frozenset[date]
    covers_from: date | None
    covers_to: date | None

    def __post_init__(self) -> None:
        if (self.covers_from is None) != (self.covers_to is None):
            raise ValueError("covers_from and covers_to must both be set or both be None")
        if (
            self.covers_from is not None
            and self.covers_to is not None
            and self.covers_from > self.covers_to
        ):
            raise ValueError(f"covers_from {self.covers_from} is after covers_to {self.covers_to}")
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"days listed as both holiday and working day: {sorted(both)}")

    def covers(self, day: date) -> bool:
        """True if the published data covers ``day`` (a Beijing date)."""
        if self.covers_from is None or self.covers_to is None:
            return False
        return self.covers_from <= day <= self.covers_to

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` (a Beijing date) is a working day.

        Inside the coverage the table decides (adjusted working day, holiday, else
        Monday-Friday). Outside it we only know the weekday, so Monday-Friday it is;
        a stray table row outside the coverage is ignored, because the coverage is the
        promise that the table is complete for those dates.
        """
        if self.covers(day):
            if day in self.workdays:
                return True
            if day in self.holidays:
                return False
        return day.weekday() < 5


# No holiday data at all: every working-day deadline is a Monday-Friday estimate.
EMPTY_CALENDAR = WorkCalendar(
    holidays=frozenset(), workdays=frozenset(), covers_from=None, covers_to=None
)


@dataclass(frozen=True)
class Deadline:
    """When a timer falls due.

    ``due`` is timezone-aware UTC. ``estimated`` is True when some day counted lay
    outside the calendar's coverage and was assumed Monday-Friday; show a warning.
    """

    due: datetime
    estimated: bool = False

    def __post_init__(self) -> None:
        _require_aware(self.due, "due")


def due_at(start: datetime, limit: Limit, calendar: WorkCalendar) -> Deadline:
    """The moment a timer started at ``start`` falls due under ``limit``.

    ``start`` must be timezone-aware (any zone); the result's ``due`` is in UTC.
    ``calendar`` is consulted only for ``Unit.WORKING_DAYS``. Dates past the
    calendar's coverage never raise; they make the result ``estimated``.
    See the module docstring for how each unit counts.
    """
    _require_aware(start, "start")
    if limit.amount == 0:
        return Deadline(due=start.astimezone(UTC), estimated=False)

    match limit.unit:
        case Unit.SECONDS:
            return _elapsed(start, timedelta(seconds=limit.amount))
        case Unit.MINUTES:
            return _elapsed(start, timedelta(minutes=limit.amount))
        case Unit.HOURS:
            return _elapsed(start, timedelta(hours=limit.amount))
        case Unit.CALENDAR_DAYS:
            return _calendar_days(start, limit.amount)
        case Unit.WORKING_DAYS:
            return _working_days(start, limit.amount, calendar)
    # Unreachable: Limit.__post_init__ only lets Unit members through.
    raise ValueError(f"unknown unit {limit.unit!r}")


def at_risk_at(start: datetime, due: datetime, share: Decimal | float) -> datetime:
    """The moment ``share`` of the window from ``start`` to ``due`` has passed (UTC).

    ``share`` is a fraction between 0 and 1 (0.8 = at risk once 80 % has passed).
    The window is elapsed time, so it is the same whatever unit set ``due``.
    The result is rounded to the nearest microsecond.
    """
    _require_aware(start, "start")
    _require_aware(due, "due")
    # Go through str() so a float 0.8 means exactly 0.8, not 0.80000000000000004.
    fraction = share if isinstance(share, Decimal) else Decimal(str(share))
    if not Decimal(0) <= fraction <= Decimal(1):
        raise ValueError(f"share must be between 0 and 1, got {share}")
    if due < start:
        raise ValueError(f"due {due} is before start {start}")
    # Integer microseconds times a Decimal: exact, unlike timedelta * float.
    window = (due - start) // _ONE_MICROSECOND
    offset = (fraction * window).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    return (start + int(offset) * _ONE_MICROSECOND).astimezone(UTC)


def shift_due(due: datetime, by: timedelta) -> datetime:
    """Move a due time by exactly ``by`` of elapsed time (a pause, an appointment).

    ``due`` must be timezone-aware; the result is UTC. A negative ``by`` moves the
    due time earlier (e.g. an appointment brought forward).
    """
    _require_aware(due, "due")
    return (due + by).astimezone(UTC)


def calendar_from_rows(
    rows: Iterable[tuple[date, bool] | tuple[date, bool, str]],
    covers_from: date | None,
    covers_to: date | None,
) -> WorkCalendar:
    """Build a ``WorkCalendar`` from holiday-table rows.

    Each row is ``(day, is_working_day)`` as stored: True = adjusted working day
    (调休上班), False = day off. Extra trailing fields (such as the holiday name from
    ``china_calendar_rows``) are ignored. ``covers_from`` / ``covers_to`` are the
    inclusive Beijing dates the data is known to cover; ``None`` for no data.
    """
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, is_working, *_ in rows:
        # A datetime would never equal the date we look up; refuse it loudly.
        if isinstance(day, datetime) or not isinstance(day, date):
            raise TypeError(f"holiday rows need a date, got {day!r}")
        (workdays if is_working else holidays).add(day)
    return WorkCalendar(
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        covers_from=covers_from,
        covers_to=covers_to,
    )


def china_calendar_rows(years: range) -> list[tuple[date, bool, str]]:
    """Official holidays and adjusted working days in ``years``, for seeding the table.

    Returns ``(day, is_working_day, name)`` rows sorted by day: every official day off
    (False) and every adjusted working day (True), with the holiday's Chinese name
    (e.g. "国庆节") when known, else the package's English name. Ordinary weekends are
    not listed. Years the package has no data for are skipped silently, so the caller
    can ask for more years than are published.
    """
    # Only the seeding path needs this package, so only it imports it.
    from chinese_calendar import Holiday, get_holiday_detail

    chinese_names = {holiday.value: holiday.chinese for holiday in Holiday}
    rows: list[tuple[date, bool, str]] = []
    for year in years:
        try:
            # The package refuses any date in a year it has no data for.
            get_holiday_detail(date(year, 1, 1))
        except NotImplementedError:
            continue
        day = date(year, 1, 1)
        while day.year == year:
            is_holiday, name = get_holiday_detail(day)
            # Only named days are exceptions to the ordinary week; a plain
            # Saturday comes back as (True, None) and is not stored.
            if name is not None:
                rows.append((day, not is_holiday, chinese_names.get(name, name)))
            day += _ONE_DAY
    return sorted(rows)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


def _elapsed(start: datetime, length: timedelta) -> Deadline:
    # Adding to the UTC instant is plain elapsed time in every zone.
    return Deadline(due=start.astimezone(UTC) + length, estimated=False)


def _calendar_days(start: datetime, amount: int) -> Deadline:
    local = start.astimezone(BEIJING)
    # Rebuild from the wall-clock date and time rather than adding 24 h multiples,
    # so "same time N days later" stays true even if Beijing ever changes offset.
    due_local = datetime.combine(local.date() + amount * _ONE_DAY, local.time(), tzinfo=BEIJING)
    return Deadline(due=due_local.astimezone(UTC), estimated=False)


def _working_days(start: datetime, amount: int, calendar: WorkCalendar) -> Deadline:
    local = start.astimezone(BEIJING)
    day = local.date()
    starts_on_working_day = calendar.is_working_day(day)
    estimated = not calendar.covers(day)

    # Walk forward to the amount-th working day strictly after the start date. For a
    # start on a day off that is also "working day N counting the next one as day 1".
    # Terminates: past the coverage every Monday-Friday is a working day.
    remaining = amount
    while remaining:
        day += _ONE_DAY
        estimated = estimated or not calendar.covers(day)
        if calendar.is_working_day(day):
            remaining -= 1

    if starts_on_working_day:
        due_local = datetime.combine(day, local.time(), tzinfo=BEIJING)
    else:
        # End of that working day: 24:00, i.e. 00:00 of the day after.
        due_local = datetime.combine(day + _ONE_DAY, time(0), tzinfo=BEIJING)
    return Deadline(due=due_local.astimezone(UTC), estimated=estimated)


# --- The answer limit ---------------------------------------------------------------------


def answered_within(*, waited: timedelta, limit: timedelta) -> bool:
    """The one boundary of the answer limit (12 s, four rings): a call answered at exactly
    the limit — 12.000 s — is within it; a call is past the limit only once it has waited
    longer. The service level counts by this, and the wallboard's "ringing past the limit"
    alarm is its negation (`sla.selectors.ringing_past_limit`)."""
    return waited <= limit
