"""Writes of the dashboard: the wall screen's counts, and the report's per-day aggregates.

`wallboard_counts_refresh` (beat, every 5 s) counts the running timers at risk and breached
once for every wall screen; see dashboard.models.WallboardCounts.


The aggregate tables (dashboard.models) hold, per Beijing day, exactly the sums that
`dashboard.metrics` would compute from the raw rows of that day (`calls_sums`,
`orders_sums`, `dispatch_sums`, `places_sums`): building a day is running those functions
and writing their rows down. Two ways in:

- `aggregates_refresh` — the Celery beat task, every minute. It re-sums today (up to now),
  the closed days in which a row changed since its last pass, the days whose calls can still
  gain a repeat call (the first-contact window), yesterday once midnight has passed, days
  built with thresholds an administrator has since changed, and a few recent days never
  built. Changes are found without any hook in the other apps: an order's `updated_at` moves
  on every service that saves it, and a breach has its `recorded_at`; both are indexed.
- `aggregates_build` — the back-fill (`python manage.py dashboard_build_aggregates`), for a
  range of days at once.

A day is rebuilt under a row lock on its AggregateDay row, in one transaction with the
delete of its old rows, so a report reads either the old or the new sums, never half, and
two passes (a second beat started by mistake) simply rebuild one after the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models.functions import TruncDate

from dashboard.metrics.basics import (
    BEIJING,
    Scope,
    Thresholds,
    beijing_day,
    day_start,
    thresholds_current,
)
from dashboard.metrics.coverage import calls_basis, orders_basis
from dashboard.metrics.figures import tune_for_reports
from dashboard.metrics.sums import ORDER_KEYS, ORDER_MEASURES, calls_sums, orders_sums, places_sums
from dashboard.models import (
    AggregateCursor,
    AggregateDay,
    AggregatePart,
    CallHour,
    DispatchBucket,
    OrderDay,
    RepairPlace,
    WallboardCounts,
)
from dashboard.selectors import running_timer_counts
from sla.models import Breach
from tickets.models import Ticket

# A change is found by its timestamp, written when the saving transaction ran, not when it
# committed: looking this far behind the last pass catches a transaction still open then.
CHANGE_MARGIN = timedelta(minutes=5)
# Recent days the refresh builds when they have never been built (a new installation, a
# database restored), a few per pass so that one pass stays short. Older days: the command.
BACKFILL_DAYS = 35
BACKFILL_PER_PASS = 3
# Days re-summed per pass after an administrator changed a threshold (newest first): the
# default month in one pass, so that reports are fast again a minute after the change.
REBASE_PER_PASS = 31
# The back-fill sums this many days per query, sorting them in memory.
BUILD_CHUNK_DAYS = 16
BUILD_WORK_MEM = "256MB"


@dataclass(frozen=True)
class RefreshResult:
    """What one refresh pass rebuilt: Beijing days per part."""

    orders_days: tuple[date, ...] = ()
    calls_days: tuple[date, ...] = ()


def _day_end(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


def _runs(days: Iterable[date], *, longest: int) -> list[list[date]]:
    """Consecutive days grouped into runs of at most `longest` days (one query per run)."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][-1] + timedelta(days=1) == day and len(runs[-1]) < longest:
            runs[-1].append(day)
        else:
            runs.append([day])
    return runs


def _lock_days(days: list[date], part: str, *, now: datetime) -> None:
    """Make sure each day has its AggregateDay row, then lock them all (in day order, so
    two builders of overlapping runs never wait on each other crosswise)."""
    AggregateDay.objects.bulk_create(
        [
            AggregateDay(day=d, part=part, covered_until=day_start(d), basis="", built_at=now)
            for d in days
        ],
        ignore_conflicts=True,
    )
    list(
        AggregateDay.objects.select_for_update()
        .filter(part=part, day__in=days)
        .order_by("day")
        .values_list("pk", flat=True)
    )


def _mark_built(days: list[date], part: str, basis: str, *, now: datetime) -> None:
    """Record on each day's AggregateDay row that it was just summed up to `now` (or its end)."""
    for day in days:
        AggregateDay.objects.filter(part=part, day=day).update(
            covered_until=max(day_start(day), min(_day_end(day), now)),
            basis=basis,
            built_at=now,
            stale=False,
        )


def _write_calls(days: list[date], t: Thresholds, *, now: datetime) -> None:
    start, end = day_start(days[0]), min(_day_end(days[-1]), now)
    with transaction.atomic():
        tune_for_reports(work_mem=BUILD_WORK_MEM)
        _lock_days(days, AggregatePart.CALLS, now=now)
        CallHour.objects.filter(day__in=days).delete()
        sums = calls_sums(Scope(start=start, end=end), t) if start < end else {}
        CallHour.objects.bulk_create(
            [
                CallHour(day=day, hour=hour, agent_id=agent, **values)
                for (day, hour, agent), values in sums.items()
            ],
            batch_size=2000,
        )
        _mark_built(days, AggregatePart.CALLS, calls_basis(t), now=now)


def _write_orders(days: list[date], t: Thresholds, *, now: datetime) -> None:
    start, end = day_start(days[0]), min(_day_end(days[-1]), now)
    with transaction.atomic():
        tune_for_reports(work_mem=BUILD_WORK_MEM)
        _lock_days(days, AggregatePart.ORDERS, now=now)
        for model in (OrderDay, DispatchBucket, RepairPlace):
            model.objects.filter(day__in=days).delete()
        if start < end:
            scope = Scope(start=start, end=end)
            _insert_orders(scope, t)
        _mark_built(days, AggregatePart.ORDERS, orders_basis(t), now=now)


def _insert_orders(scope: Scope, t: Thresholds) -> None:
    fields = set(ORDER_MEASURES)
    sums, buckets = orders_sums(scope, t)
    OrderDay.objects.bulk_create(
        [
            OrderDay(
                **dict(zip(ORDER_KEYS, key, strict=True)),
                **{k: v for k, v in values.items() if k in fields},
            )
            for key, values in sums.items()
        ],
        batch_size=2000,
    )
    DispatchBucket.objects.bulk_create(
        [
            DispatchBucket(
                **dict(zip(ORDER_KEYS, key, strict=True)), bucket_seconds=bucket, orders=n
            )
            for (*key, bucket), n in buckets.items()
        ],
        batch_size=2000,
    )
    RepairPlace.objects.bulk_create(
        [
            RepairPlace(
                day=day,
                subtype_id=subtype_id,
                area_type=area_type,
                unit_id=unit_id,
                kind=kind,
                place=place,
                faults=n,
            )
            for (day, subtype_id, area_type, unit_id, kind, place), n in places_sums(scope).items()
        ],
        batch_size=2000,
    )


def aggregates_build(
    *,
    days: Iterable[date],
    now: datetime,
    parts: Iterable[str] = (AggregatePart.CALLS, AggregatePart.ORDERS),
    thresholds: Thresholds | None = None,
) -> int:
    """Sum the given Beijing days from the raw rows and store them; returns days written.

    A day not yet over is summed up to `now` (its `covered_until`); days after today are
    skipped. Consecutive days are summed by one query per part and run of days.
    """
    t = thresholds or thresholds_current()
    today = beijing_day(now)
    wanted = sorted({d for d in days if d <= today})
    for part in parts:
        write = _write_calls if part == AggregatePart.CALLS else _write_orders
        for run in _runs(wanted, longest=BUILD_CHUNK_DAYS):
            write(run, t, now=now)
    return len(wanted)


def _changed_order_days(*, since: datetime, before: datetime) -> set[date]:
    """Days (of acceptance) of orders saved, or breached, at or after `since`."""
    saved = (
        Ticket.objects.filter(updated_at__gte=since, created_at__lt=before)
        .annotate(day=TruncDate("created_at", tzinfo=BEIJING))
        .values_list("day", flat=True)
        .distinct()
    )
    breached = (
        Breach.objects.filter(recorded_at__gte=since, ticket__created_at__lt=before)
        .annotate(day=TruncDate("ticket__created_at", tzinfo=BEIJING))
        .values_list("day", flat=True)
        .distinct()
    )
    return set(saved) | set(breached)


def _cursor_advance(*, now: datetime) -> datetime | None:
    """Move the change cursor to `now`; returns where the previous pass left it (or None)."""
    cursor, created = AggregateCursor.objects.select_for_update().get_or_create(
        name="changes", defaults={"checked_at": now}
    )
    if created:
        return None
    previous = cursor.checked_at
    if now > previous:
        cursor.checked_at = now
        cursor.save(update_fields=["checked_at"])
    return previous


def aggregates_refresh(*, now: datetime, thresholds: Thresholds | None = None) -> RefreshResult:
    """One pass of the beat task: bring the stored days up to date with the raw rows at `now`.

    Days rebuilt, per part (see the module docstring for why each):
    - orders: today; closed days with an order saved or breached since the last pass;
      closed days summed before they ended (yesterday, just after midnight); days summed
      with other thresholds (a few per pass); recent days never summed (a few per pass).
    - calls: today and the days whose calls can still be repeated within the first-contact
      window (a repeat call reaches back that far), plus the same catching-up as orders.
      Calls carry no change time: a switch event for a call older than the window and this
      pass's margin is only summed by the back-fill command.
    """
    t = thresholds or thresholds_current()
    today = beijing_day(now)
    today_start = day_start(today)
    with transaction.atomic():
        previous = _cursor_advance(now=now)
        if previous is not None:
            changed = _changed_order_days(since=previous - CHANGE_MARGIN, before=today_start)
            if changed:
                AggregateDay.objects.filter(
                    part=AggregatePart.ORDERS, day__in=changed, stale=False
                ).update(stale=True)

    since = (previous or now) - CHANGE_MARGIN
    window = timedelta(hours=t.first_contact_window_hours)
    reach = beijing_day(min(since, now) - window)
    recent = [today - timedelta(days=n) for n in range(1, BACKFILL_DAYS + 1)]
    built = {
        (row["day"], row["part"]): row
        for row in AggregateDay.objects.filter(day__gte=recent[-1], day__lt=today).values(
            "day", "part", "basis", "covered_until", "stale"
        )
    }
    basis = {AggregatePart.ORDERS: orders_basis(t), AggregatePart.CALLS: calls_basis(t)}
    plan: dict[str, set[date]] = {}
    for part, wanted_basis in basis.items():
        days = {today}
        if part == AggregatePart.CALLS:
            day = reach
            while day < today:
                days.add(day)
                day += timedelta(days=1)
        rebase = []
        for day in recent:
            row = built.get((day, part))
            if row is None:
                continue
            if row["stale"] or row["covered_until"] < _day_end(day):
                days.add(day)
            elif row["basis"] != wanted_basis:
                rebase.append(day)
        days.update(rebase[:REBASE_PER_PASS])
        missing = [day for day in recent if (day, part) not in built]
        days.update(missing[:BACKFILL_PER_PASS])
        # Stale days older than the recent window (a return visit months later) too.
        days.update(
            AggregateDay.objects.filter(part=part, stale=True, day__lt=recent[-1]).values_list(
                "day", flat=True
            )[:BACKFILL_PER_PASS]
        )
        plan[part] = days
    for part, days in plan.items():
        aggregates_build(days=days, now=now, parts=[part], thresholds=t)
    return RefreshResult(
        orders_days=tuple(sorted(plan[AggregatePart.ORDERS])),
        calls_days=tuple(sorted(plan[AggregatePart.CALLS])),
    )


def aggregates_build_range(
    *, first: date, last: date, now: datetime, thresholds: Thresholds | None = None
) -> int:
    """Back-fill every day from `first` to `last` (both included); returns days written."""
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    return aggregates_build(days=days, now=now, thresholds=thresholds)


def wallboard_counts_refresh(*, now: datetime) -> WallboardCounts:
    """Count the running timers at risk and breached at `now` for every wall screen at once."""
    counts, _created = WallboardCounts.objects.update_or_create(
        pk=1, defaults={"counted_at": now, "rows": running_timer_counts(now=now)}
    )
    return counts
