"""Every write to an outage: register, edit, update the expected restoration, dispatch the
crew, record the report to the power authority, end it — and its reporting clocks.

Each service is keyword-only, runs in one transaction, validates before saving, appends an
`OutageEvent` and raises `DomainError` (one message per field) for anything the rules
refuse, in which case nothing is stored. What an outage does to the work orders linked to it
is written by `tickets.services` (`ticket_create_for_outage`, `tickets_resolve_for_outage`),
which calls these: this module knows nothing of orders.

The reporting clocks (SPEC section 4, `OutageTimerRule`, 5/5/5 min for fault outages):

- ``entry``: from the fault's confirmation to its registration. It stops the moment it is
  created, so a late entry is a breach recorded on the spot (at confirmation + limit).
- ``restoration_update``: armed whenever an expected restoration is set, from that time to
  that time + limit; an update of the expected restoration (or power back before it) stops
  it. If the expected time passes and nobody updates it, the scanner records the breach.
- ``restoration_record``: from power back (`restored_at`, as the desk enters it) to the
  moment the end is recorded; stops at once, like ``entry``.

Breaches notify the supervisors of the outage's crew (the call centre's when it has no crew
yet) and climb the same escalation ladder as order timers (`sla.EscalationStep`, its steps
for every timer).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import HandlingUnit, ServiceArea
from outages.models import (
    Outage,
    OutageDispatch,
    OutageEvent,
    OutageTimer,
    OutageTimerName,
    OutageTimerRule,
)
from outages.notices import outage_notices_create
from outages.permissions import outage_may_override_notice
from outages.selectors import coverage_count
from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from sla.models import EscalationStep, Notification, NotificationKind

BEIJING = ZoneInfo("Asia/Shanghai")
# Planned outages are announced 3 to 7 days ahead (SPEC section 4).
NOTICE_MIN: timedelta = timedelta(days=getattr(settings, "OUTAGES_NOTICE_MIN_DAYS", 3))
NOTICE_MAX: timedelta = timedelta(days=getattr(settings, "OUTAGES_NOTICE_MAX_DAYS", 7))
# One return visit per outage, due this long after the outage ends (the orders' default).
VISIT_WITHIN: timedelta = timedelta(hours=getattr(settings, "OUTAGES_VISIT_WITHIN_HOURS", 24))
NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,29}$")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


@dataclass(frozen=True)
class OutageDraft:
    """An outage as typed on the register form (or imported), before it is saved. UTC."""

    kind: str
    title: str
    starts_at: datetime | None
    number: str = ""
    cause: str = ""
    description: str = ""
    confirmed_at: datetime | None = None
    expected_restoration_at: datetime | None = None
    notice_at: datetime | None = None
    service_areas: Sequence[ServiceArea] = ()
    feeders: Sequence[str] = ()
    transformer_areas: Sequence[str] = ()
    crew: HandlingUnit | None = None


@dataclass
class _Errors:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.fields:
            raise DomainError(_("Please correct the marked fields."), field_errors=self.fields)


def _event(
    outage: Outage,
    *,
    kind: str,
    actor: Actor,
    at: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> OutageEvent:
    return OutageEvent.objects.create(
        outage=outage,
        at=at,
        kind=kind,
        actor_id=actor.user_id,
        actor_label=actor.label,
        note=note,
        data=data or {},
    )


def _lock(outage: Outage) -> Outage:
    return Outage.objects.select_for_update().get(pk=outage.pk)


def _texts(values: Iterable[str]) -> list[str]:
    """Feeders or transformer areas: trimmed, blanks dropped, each once, in the given order."""
    seen: list[str] = []
    for value in values:
        text = (value or "").strip()
        if text and text not in seen:
            seen.append(text[:60])
    return seen


def _lead_text(lead: timedelta) -> str:
    """2 days 3 h 0 min: to the minute, so a notice one minute past 7 days does not read "7"."""
    minutes = int(lead.total_seconds() // 60)
    return _("%(days)s days %(hours)s h %(minutes)s min") % {
        "days": minutes // 1440,
        "hours": minutes % 1440 // 60,
        "minutes": minutes % 60,
    }


def _check_notice(
    draft: OutageDraft, *, errors: _Errors, actor: Actor, override_reason: str
) -> bool:
    """The 3–7 day notice of a planned outage. Returns True when a supervisor's override
    lets an out-of-window notice through (the caller records it)."""
    if draft.notice_at is None:
        errors.add("notice_at", _("Enter when the planned outage was announced."))
        return False
    if draft.starts_at is None:
        return False
    lead = draft.starts_at - draft.notice_at
    if NOTICE_MIN <= lead <= NOTICE_MAX:
        return False
    if override_reason:
        if outage_may_override_notice(actor.user):
            return True
        errors.add("notice_override_reason", _("Only a supervisor may override the notice period."))
    if lead < timedelta(0):
        message = _("The announcement must come before the outage starts.")
    else:
        message = _(
            "A planned outage must be announced %(min)s to %(max)s days before it starts; "
            "this notice is %(lead)s ahead. A supervisor may let it through with a reason."
        ) % {"min": NOTICE_MIN.days, "max": NOTICE_MAX.days, "lead": _lead_text(lead)}
    errors.add("notice_at", message)
    return False


def _clean(
    draft: OutageDraft,
    *,
    actor: Actor,
    override_reason: str,
    now: datetime,
    existing: Outage | None = None,
) -> tuple[OutageDraft, bool]:
    """The draft trimmed, and whether a notice override applies; raises DomainError with a
    message per field."""
    errors = _Errors()
    if draft.kind not in Outage.Kind.values:
        errors.add("kind", _("Choose the kind of outage."))
    title = (draft.title or "").strip()
    if not title:
        errors.add("title", _("Give the outage a title, e.g. the line and what happened."))
    number = (draft.number or "").strip()
    if number and not NUMBER.match(number):
        errors.add("number", _("Use letters, digits and dashes only (at most 30)."))
    elif (
        number
        and Outage.objects.filter(number=number)
        .exclude(pk=existing.pk if existing else None)
        .exists()
    ):
        errors.add("number", _("An outage with this number already exists."))
    if draft.starts_at is None:
        errors.add("starts_at", _("Enter when the outage starts."))
    feeders, transformers = _texts(draft.feeders), _texts(draft.transformer_areas)
    if not (draft.service_areas or feeders or transformers):
        errors.add(
            "service_areas",
            _("Choose the service areas, feeders or transformer areas the outage covers."),
        )
    if draft.kind == Outage.Kind.FAULT:
        if draft.confirmed_at is None:
            errors.add("confirmed_at", _("Enter when the fault was confirmed."))
        elif draft.confirmed_at > now:
            errors.add("confirmed_at", _("The confirmation cannot be in the future."))
    expected = draft.expected_restoration_at
    changed_expected = existing is None or existing.expected_restoration_at != expected
    if expected is not None and draft.starts_at is not None and expected <= draft.starts_at:
        errors.add(
            "expected_restoration_at", _("The expected restoration must come after the start.")
        )
    elif expected is not None and changed_expected and expected <= now:
        errors.add(
            "expected_restoration_at",
            _("The expected restoration has already passed; enter the new expected time."),
        )
    if draft.crew is not None and not draft.crew.is_active:
        errors.add("crew", _("This unit is no longer active."))
    override = False
    notice_changed = existing is None or (
        existing.kind != draft.kind
        or existing.starts_at != draft.starts_at
        or existing.notice_at != draft.notice_at
    )
    if draft.kind == Outage.Kind.PLANNED and (notice_changed or override_reason):
        override = _check_notice(draft, errors=errors, actor=actor, override_reason=override_reason)
    errors.raise_if_any()
    cleaned = OutageDraft(
        kind=draft.kind,
        title=title[:200],
        starts_at=draft.starts_at,
        number=number,
        cause=(draft.cause or "").strip()[:200],
        description=(draft.description or "").strip(),
        confirmed_at=draft.confirmed_at if draft.kind == Outage.Kind.FAULT else None,
        expected_restoration_at=expected,
        notice_at=draft.notice_at,
        service_areas=list(draft.service_areas),
        feeders=feeders,
        transformer_areas=transformers,
        crew=draft.crew,
    )
    return cleaned, override


def _apply(outage: Outage, draft: OutageDraft) -> None:
    outage.kind = draft.kind
    outage.title = draft.title
    outage.cause = draft.cause
    outage.description = draft.description
    outage.starts_at = draft.starts_at
    outage.confirmed_at = draft.confirmed_at
    outage.expected_restoration_at = draft.expected_restoration_at
    outage.notice_at = draft.notice_at
    outage.feeders = list(draft.feeders)
    outage.transformer_areas = list(draft.transformer_areas)
    coverage = coverage_count(
        service_area_ids=[area.pk for area in draft.service_areas],
        feeders=draft.feeders,
        transformer_areas=draft.transformer_areas,
    )
    outage.customers_covered = coverage.customers
    # Covering an important customer makes the report to the power authority due, by itself.
    outage.affects_important_customers = coverage.important > 0


def _record_override(outage: Outage, *, actor: Actor, reason: str, now: datetime) -> None:
    outage.notice_override_reason = reason
    outage.notice_override_by_id = actor.user_id
    outage.notice_override_at = now
    outage.save(
        update_fields=["notice_override_reason", "notice_override_by", "notice_override_at"]
    )
    _event(
        outage,
        kind=OutageEvent.Kind.NOTICE_OVERRIDE,
        actor=actor,
        at=now,
        note=reason,
        data={
            "notice_at": outage.notice_at.isoformat() if outage.notice_at else None,
            "starts_at": outage.starts_at.isoformat(),
        },
    )


def outage_number_for(*, pk: int, created_at: datetime) -> str:
    """TD + the Beijing date of registration + the row id: unique without a shared counter."""
    return f"TD{created_at.astimezone(BEIJING):%Y%m%d}{pk:06d}"


@transaction.atomic
def outage_register(
    *,
    draft: OutageDraft,
    actor: Actor,
    notice_override_reason: str = "",
    now: datetime | None = None,
) -> Outage:
    """Register an outage (the dispatch desk's form). Counts the customers it covers and
    flags the report to the power authority when an important one is among them; starts
    its reporting clocks; dispatches it to its crew (the one chosen, else the first
    affected area's) when there is one.

    A planned outage announced less than 3 or more than 7 days before its start is refused
    (a message on `notice_at`) unless a supervisor gives `notice_override_reason`.
    """
    now = _now(now)
    reason = (notice_override_reason or "").strip()
    draft, override = _clean(draft, actor=actor, override_reason=reason, now=now)
    # Without a number from the distribution system, the number derives from the row id: a
    # unique stand-in fills the column until the insert has drawn it.
    outage = Outage(
        number=draft.number or f"new-{uuid.uuid4().hex[:26]}", created_by_id=actor.user_id
    )
    _apply(outage, draft)
    outage.save()
    if not draft.number:
        outage.number = outage_number_for(pk=outage.pk, created_at=now)
        outage.save(update_fields=["number"])
    outage.service_areas.set(draft.service_areas)
    registered = _event(
        outage,
        kind=OutageEvent.Kind.REGISTERED,
        actor=actor,
        at=now,
        data={"customers": outage.customers_covered},
    )
    if override:
        _record_override(outage, actor=actor, reason=reason, now=now)
    # Dispatched first, so that a late entry is told to the supervisors of its crew.
    crew = draft.crew or next((a.crew for a in draft.service_areas if a.crew_id), None)
    if crew is not None and crew.is_active:
        _dispatch(outage, unit=crew, actor=actor, now=now)
    if outage.kind == Outage.Kind.FAULT and outage.confirmed_at is not None:
        _timer_start_stopped(
            outage, name=OutageTimerName.ENTRY, started_at=outage.confirmed_at, stopped_at=now
        )
    _arm_update_clock(outage, now=now)
    # The customers covered are told by text message, sent after the commit.
    outage_notices_create(outage=outage, event=registered, now=now)
    return outage


@transaction.atomic
def outage_update(
    *,
    outage: Outage,
    draft: OutageDraft,
    actor: Actor,
    notice_override_reason: str = "",
    now: datetime | None = None,
) -> Outage:
    """Edit an outage that is not over. Recounts the customers covered; a changed start or
    announcement of a planned outage is checked against the 3–7 day notice again; a changed
    expected restoration restarts its update clock."""
    now = _now(now)
    locked = _lock(outage)
    if locked.restored_at is not None:
        raise NotAllowed(_("This outage is over; it can no longer be edited."))
    reason = (notice_override_reason or "").strip()
    draft, override = _clean(draft, actor=actor, override_reason=reason, now=now, existing=locked)
    before = {
        "kind": locked.kind,
        "starts_at": locked.starts_at,
        "expected_restoration_at": locked.expected_restoration_at,
        "notice_at": locked.notice_at,
        "customers_covered": locked.customers_covered,
    }
    old_expected = locked.expected_restoration_at
    _apply(locked, draft)
    if draft.number and draft.number != locked.number:
        locked.number = draft.number
    locked.save()
    locked.service_areas.set(draft.service_areas)
    changed = sorted(name for name, value in before.items() if getattr(locked, name) != value)
    updated = _event(
        locked, kind=OutageEvent.Kind.UPDATED, actor=actor, at=now, data={"changed": changed}
    )
    if override:
        _record_override(locked, actor=actor, reason=reason, now=now)
    if locked.expected_restoration_at != old_expected:
        _stop_update_clock(locked, at=now, now=now)
        _arm_update_clock(locked, now=now)
        outage_notices_create(outage=locked, event=updated, now=now)
    return locked


@transaction.atomic
def outage_update_restoration(
    *,
    outage: Outage,
    expected_restoration_at: datetime,
    actor: Actor,
    note: str = "",
    now: datetime | None = None,
) -> Outage:
    """The expected restoration slips (or improves): record the new time. Stops the update
    clock (a breach if it was already past due) and arms the next one from the new time."""
    now = _now(now)
    locked = _lock(outage)
    if locked.restored_at is not None:
        raise NotAllowed(_("This outage is over; power is already back."))
    if expected_restoration_at is None or expected_restoration_at <= now:
        message = _("Enter an expected restoration later than now.")
        raise DomainError(message, field_errors={"expected_restoration_at": [message]})
    if expected_restoration_at <= locked.starts_at:
        message = _("The expected restoration must come after the start.")
        raise DomainError(message, field_errors={"expected_restoration_at": [message]})
    old = locked.expected_restoration_at
    locked.expected_restoration_at = expected_restoration_at
    locked.save(update_fields=["expected_restoration_at", "updated_at"])
    changed = _event(
        locked,
        kind=OutageEvent.Kind.RESTORATION,
        actor=actor,
        at=now,
        note=(note or "").strip(),
        data={
            "from": old.isoformat() if old else None,
            "to": expected_restoration_at.isoformat(),
        },
    )
    _stop_update_clock(locked, at=now, now=now)
    _arm_update_clock(locked, now=now)
    outage_notices_create(outage=locked, event=changed, now=now)
    return locked


def _dispatch(outage: Outage, *, unit: HandlingUnit, actor: Actor, now: datetime) -> OutageDispatch:
    try:
        with transaction.atomic():
            dispatch = OutageDispatch.objects.create(
                outage=outage, unit=unit, at=now, actor_id=actor.user_id, actor_label=actor.label
            )
    except IntegrityError:
        raise NotAllowed(_("This outage has already been dispatched.")) from None
    _event(
        outage,
        kind=OutageEvent.Kind.DISPATCHED,
        actor=actor,
        at=now,
        data={"unit": unit.pk, "unit_name": unit.name},
    )
    return dispatch


@transaction.atomic
def outage_dispatch(
    *, outage: Outage, unit: HandlingUnit, actor: Actor, now: datetime | None = None
) -> OutageDispatch:
    """Send the outage to a crew: once per outage, however many calls are linked to it."""
    now = _now(now)
    locked = _lock(outage)
    if OutageDispatch.objects.filter(outage=locked).exists():
        raise NotAllowed(_("This outage has already been dispatched."))
    if locked.restored_at is not None:
        raise NotAllowed(_("This outage is over; power is already back."))
    if unit is None or not unit.is_active:
        message = _("Choose an active crew.")
        raise DomainError(message, field_errors={"unit": [message]})
    return _dispatch(locked, unit=unit, actor=actor, now=now)


@transaction.atomic
def outage_record_authority_report(
    *, outage: Outage, actor: Actor, note: str = "", now: datetime | None = None
) -> Outage:
    """Record that the outage was reported to the power authority (an outage covering an
    important customer must be); the wallboard stops showing it as overdue."""
    now = _now(now)
    locked = _lock(outage)
    if not locked.affects_important_customers:
        raise NotAllowed(_("This outage covers no important customer; no report is due."))
    if locked.reported_to_authority:
        raise NotAllowed(_("The report to the power authority is already recorded."))
    locked.reported_to_authority = True
    locked.reported_to_authority_at = now
    locked.reported_to_authority_by_id = actor.user_id
    locked.authority_report_note = (note or "").strip()[:200]
    locked.save(
        update_fields=[
            "reported_to_authority",
            "reported_to_authority_at",
            "reported_to_authority_by",
            "authority_report_note",
            "updated_at",
        ]
    )
    _event(
        locked,
        kind=OutageEvent.Kind.AUTHORITY,
        actor=actor,
        at=now,
        note=locked.authority_report_note,
    )
    return locked


def outage_end(
    *,
    outage: Outage,
    actor: Actor,
    restored_at: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Outage:
    """Power is back: record when (`restored_at`, default now) and who recorded it, and
    queue the outage's one return visit (`visit_due_at`). Stops its clocks: the update clock
    at power back, and the record clock, which runs from power back to now.

    The orders linked to it are resolved by `tickets.services.tickets_resolve_for_outage`,
    which calls this in its own transaction: the page ends an outage through that.
    """
    now = _now(now)
    with transaction.atomic():
        # FOR UPDATE: waits for the calls being linked right now (they hold the outage's row
        # FOR KEY SHARE) and makes the ones that come after see it over.
        locked = _lock(outage)
        if locked.restored_at is not None:
            raise NotAllowed(_("This outage is already over."))
        restored_at = restored_at or now
        if restored_at > now:
            message = _("Power cannot be back later than now.")
            raise DomainError(message, field_errors={"restored_at": [message]})
        if restored_at < locked.starts_at:
            message = _("Power cannot be back before the outage started.")
            raise DomainError(message, field_errors={"restored_at": [message]})
        locked.restored_at = restored_at
        locked.restoration_recorded_at = now
        locked.restoration_recorded_by_id = actor.user_id
        locked.visit_due_at = now + VISIT_WITHIN
        locked.save(
            update_fields=[
                "restored_at",
                "restoration_recorded_at",
                "restoration_recorded_by",
                "visit_due_at",
                "updated_at",
            ]
        )
        ended = _event(
            locked,
            kind=OutageEvent.Kind.ENDED,
            actor=actor,
            at=now,
            note=(note or "").strip(),
            data={"restored_at": restored_at.isoformat()},
        )
        _stop_update_clock(locked, at=min(restored_at, now), now=now)
        _timer_start_stopped(
            locked, name=OutageTimerName.RESTORATION_RECORD, started_at=restored_at, stopped_at=now
        )
        outage_notices_create(outage=locked, event=ended, now=now)
    return locked


# --- The reporting clocks -----------------------------------------------------------------------


def _rule_for(*, name: str, kind: str) -> OutageTimerRule | None:
    """The active rule for this clock: the one for the outage's kind, else the one for every kind."""
    return (
        OutageTimerRule.objects.filter(name=name, is_active=True, kind__in=[kind, ""])
        .order_by("-kind")
        .first()
    )


def _timer_start(outage: Outage, *, name: str, started_at: datetime) -> OutageTimer | None:
    rule = _rule_for(name=name, kind=outage.kind)
    if rule is None:
        return None
    return OutageTimer.objects.create(
        outage=outage,
        name=name,
        rule=rule,
        started_at=started_at,
        due_at=started_at + timedelta(minutes=rule.minutes),
    )


def _timer_start_stopped(
    outage: Outage, *, name: str, started_at: datetime, stopped_at: datetime
) -> OutageTimer | None:
    """A clock whose start lies in the past and which stops now (entry, record)."""
    timer = _timer_start(outage, name=name, started_at=started_at)
    if timer is not None:
        _timer_stop(timer, at=stopped_at, now=stopped_at)
    return timer


def _arm_update_clock(outage: Outage, *, now: datetime) -> None:
    if outage.expected_restoration_at is not None and outage.restored_at is None:
        _timer_start(
            outage,
            name=OutageTimerName.RESTORATION_UPDATE,
            started_at=outage.expected_restoration_at,
        )


def _stop_update_clock(outage: Outage, *, at: datetime, now: datetime) -> None:
    running = OutageTimer.objects.filter(
        outage=outage, name=OutageTimerName.RESTORATION_UPDATE, stopped_at__isnull=True
    ).first()
    if running is not None:
        # Power back before the expected time even came: the clock stops where it would
        # have started, having never run.
        _timer_stop(running, at=max(at, running.started_at), now=now)


def _timer_stop(timer: OutageTimer, *, at: datetime, now: datetime) -> None:
    """Stop the clock at `at`. One that stops after its due time, whose breach the scanner
    had not recorded yet, gets its breach now (at its due time) and notifies at once."""
    late = at > timer.due_at
    changes: dict[str, Any] = {"stopped_at": at}
    claimed = 0
    if late:
        claimed = OutageTimer.objects.filter(
            pk=timer.pk, stopped_at__isnull=True, breached_at__isnull=True
        ).update(breached_at=F("due_at"), breach_recorded_at=now, escalation_level=1, **changes)
    if not claimed:
        OutageTimer.objects.filter(pk=timer.pk, stopped_at__isnull=True).update(**changes)
    timer.refresh_from_db()
    if claimed:
        _notify(timer_ids=[timer.pk], levels_up=0, kind=NotificationKind.BREACH, now=now)


def _unit_chain(unit_id: int | None, levels_up: int, parents: dict[int, int | None]) -> int | None:
    for _level in range(levels_up):
        if unit_id is None:
            return None
        unit_id = parents.get(unit_id)
    return unit_id


def _notify(*, timer_ids: Sequence[int], levels_up: int, kind: str, now: datetime) -> int:
    """Tell the supervisors of each outage's crew (`levels_up` units up the parent chain)
    that a reporting clock ran out. An outage not dispatched yet answers to the call
    centre's supervisors. A handful of rows at most: plain queries."""
    timers = list(
        OutageTimer.objects.filter(pk__in=list(timer_ids)).select_related(
            "outage", "outage__dispatch"
        )
    )
    if not timers:
        return 0
    fallback = (
        HandlingUnit.objects.filter(kind=HandlingUnit.Kind.CALL_CENTRE, is_active=True)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    parents = dict(HandlingUnit.objects.values_list("pk", "parent_id"))
    supervisors: dict[int, list[int]] = {}
    for unit_id, user_id in HandlingUnit.supervisors.through.objects.values_list(
        "handlingunit_id", "user_id"
    ):
        supervisors.setdefault(unit_id, []).append(user_id)
    labels = dict(OutageTimerName.choices)
    notifications = []
    with translation.override(settings.LANGUAGE_CODE):
        for timer in timers:
            dispatch = getattr(timer.outage, "dispatch", None)
            base = dispatch.unit_id if dispatch is not None else fallback
            unit_id = _unit_chain(base, levels_up, parents)
            if kind == NotificationKind.BREACH:
                template = _("Outage %(number)s: reporting limit breached — %(timer)s")
            else:
                template = _("Escalated: outage %(number)s still overdue — %(timer)s")
            message = template % {"number": timer.outage.number, "timer": labels[timer.name]}
            notifications += [
                Notification(recipient_id=user_id, kind=kind, message=message[:300], created_at=now)
                for user_id in sorted(set(supervisors.get(unit_id, [])))
            ]
    Notification.objects.bulk_create(notifications)
    return len(notifications)


@dataclass(frozen=True)
class OutageScanResult:
    breached: int = 0
    escalated: int = 0


def _ladder() -> list[tuple[int, timedelta]]:
    """(level, wait after the breach) for levels 2, 3, …: the escalation steps that apply to
    every timer (`sla.EscalationStep` with no timer name). A level is reached only through
    the ones below it, so its wait is the longest of the steps so far."""
    steps = {
        s.level: s for s in EscalationStep.objects.filter(is_active=True, name="", level__gte=2)
    }
    ladder, waited, level = [], timedelta(0), 2
    while level in steps:
        waited = max(waited, timedelta(minutes=steps[level].after_minutes))
        ladder.append((level, waited))
        level += 1
    return ladder


def _claim(qs, **changes: Any) -> list[int]:
    """Claim the rows of `qs` with a conditional UPDATE: on PostgreSQL they are picked
    FOR UPDATE SKIP LOCKED, so a second scanner (or a service stopping the clock right now)
    never gets the same row and never waits; SQLite has one writer at a time anyway."""
    ids = list(qs.select_for_update(skip_locked=True).values_list("pk", flat=True))
    if ids:
        qs.filter(pk__in=ids).update(**changes)
    return ids


def outage_timers_scan(*, now: datetime) -> OutageScanResult:
    """One pass over the outage reporting clocks (Celery beat every few seconds,
    `manage.py outage_scan`, tests): record every breach whose due time has passed (at that
    due time, however late the pass), notify, and climb the escalation ladder. Each claim
    is a conditional UPDATE, so two scanners never record or notify anything twice."""
    with transaction.atomic():
        running = OutageTimer.objects.filter(stopped_at__isnull=True)
        breached = _claim(
            running.filter(breached_at__isnull=True, due_at__lt=now),
            breached_at=F("due_at"),
            breach_recorded_at=now,
            escalation_level=1,
        )
        if breached:
            _notify(timer_ids=breached, levels_up=0, kind=NotificationKind.BREACH, now=now)
        escalated = 0
        for level, wait in _ladder():
            reached = _claim(
                running.filter(
                    breached_at__isnull=False,
                    escalation_level=level - 1,
                    breached_at__lte=now - wait,
                ),
                escalation_level=level,
            )
            if reached:
                _notify(
                    timer_ids=reached,
                    levels_up=level - 1,
                    kind=NotificationKind.ESCALATION,
                    now=now,
                )
                escalated += len(reached)
    return OutageScanResult(breached=len(breached), escalated=escalated)


def outage_lock_active(outage: Outage) -> bool:
    """Hold the outage's row while a call is linked to it and say whether it is still on.

    PostgreSQL: FOR KEY SHARE, which linking calls share with each other (a storm of calls
    does not queue on it) but which makes `outage_end` (FOR UPDATE) wait for the calls in
    flight, and the calls after it see the outage over. SQLite runs one writer at a time.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT restored_at FROM {Outage._meta.db_table} WHERE id = %s FOR KEY SHARE",
                [outage.pk],
            )
            row = cursor.fetchone()
    else:
        row = Outage.objects.filter(pk=outage.pk).values_list("restored_at").first()
    return row is not None and row[0] is None
