"""The rules as data: revising an SLA rule without touching running orders, and loading
the holiday table from the calendar package."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from sla import selectors
from sla.models import Holiday, HolidayYear, SlaRule
from sla.policy import china_calendar_rows

RULE_TERMS = (
    "amount",
    "unit",
    "start_event",
    "stop_event",
    "at_risk_share",
    "category",
    "subtype",
    "area_type",
    "important",
    "is_active",
    "name",
)


@transaction.atomic
def sla_rule_revise(
    *, rule: SlaRule, changes: dict[str, Any], now: datetime | None = None
) -> SlaRule:
    """Change a rule without touching the orders that started under it.

    The current version is closed at ``now`` and a new version with the changes opens at
    ``now``; orders accepted before keep the old version for every clock they start later
    (even a clock that has not started yet, like the arrival clock of an order not yet
    dispatched). A rule not yet in effect is simply edited.
    """
    now = now or timezone.now()
    unknown = set(changes) - set(RULE_TERMS) - {"note", "effective_to"}
    if unknown:
        raise ValueError(f"not rule terms: {sorted(unknown)}")
    current = SlaRule.objects.select_for_update().get(pk=rule.pk)
    if current.effective_from > now:
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        current.save()
        return current
    new = SlaRule(
        **{name: getattr(current, name) for name in RULE_TERMS if name != "subtype"},
        subtype_id=current.subtype_id,
        note=current.note,
        effective_from=now,
        effective_to=current.effective_to,
    )
    for name, value in changes.items():
        setattr(new, name, value)
    new.full_clean()
    current.effective_to = now
    current.save(update_fields=["effective_to"])
    new.save()
    return new


@dataclass(frozen=True)
class HolidayLoadResult:
    years: tuple[int, ...]
    created: int
    updated: int


@transaction.atomic
def holidays_load(*, years: range) -> HolidayLoadResult:
    """Insert or correct the holiday table from the chinesecalendar package for ``years``
    (years the package does not know are skipped) and mark those years complete."""
    rows = china_calendar_rows(years)
    existing = {h.day: h for h in Holiday.objects.filter(day__in=[day for day, _w, _n in rows])}
    created, updated = [], []
    for day, is_working_day, name in rows:
        holiday = existing.get(day)
        if holiday is None:
            created.append(Holiday(day=day, is_working_day=is_working_day, name=name))
        elif (holiday.is_working_day, holiday.name) != (is_working_day, name):
            holiday.is_working_day, holiday.name = is_working_day, name
            updated.append(holiday)
    Holiday.objects.bulk_create(created)
    Holiday.objects.bulk_update(updated, ["is_working_day", "name"])
    loaded = tuple(sorted({day.year for day, _w, _n in rows}))
    for year in loaded:
        HolidayYear.objects.get_or_create(year=year, defaults={"source": "chinesecalendar"})
    transaction.on_commit(selectors.work_calendar_clear)
    return HolidayLoadResult(years=loaded, created=len(created), updated=len(updated))
