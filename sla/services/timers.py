"""Timers started and stopped by the order's life-cycle events, paused, and moved by an
appointment. The SLA engine decides and writes its own timer rows; what goes on the
order (its timeline, its fields) is written by `tickets.services`, which calls these
inside its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from calls.models import Call
from servicedesk.errors import DomainError
from sla import selectors
from sla.models import DAY_UNITS, Event, SlaRule, Timer, TimerName
from sla.policy import EMPTY_CALENDAR, Unit, at_risk_at, due_at, shift_due
from sla.services.breaches import breaches_record
from tickets.models import Category, ReplyForm, Status, Ticket


def _call_ended_at(ticket: Ticket, *, accepted_at: datetime) -> datetime | None:
    """When the dispatch clock of a new order starts: the moment its call ended (which may
    be before the order was saved: call hung up 09:02, order saved 09:04, due 09:05), the
    acceptance when no call is linked, or None while the caller is still on the line."""
    if not ticket.call_id:
        return accepted_at
    call = (
        ticket.call
        if Ticket.call.is_cached(ticket)
        else Call.objects.only("hangup_at").get(pk=ticket.call_id)
    )
    if call.hangup_at is None:
        return None
    return min(call.hangup_at, accepted_at)


def _applies(name: str, ticket: Ticket) -> bool:
    """Timers that a rule cannot express: orders that never leave the agent have no clocks.

    An inquiry answered on the call and a fault inside the customer's own installation
    (guided by phone) are resolved by the agent at once: no dispatch, no callback, no crew.
    """
    answered_on_call = (
        ticket.category == Category.INQUIRY and ticket.reply_form == ReplyForm.ON_CALL
    )
    guided_by_phone = ticket.category == Category.REPAIR and ticket.inside_customer_installation
    if answered_on_call or guided_by_phone:
        return False
    return True


def _new_timer(
    *, ticket: Ticket, rule: SlaRule, start: datetime, moved: timedelta = timedelta(0)
) -> Timer:
    # Only working-day limits need the holiday table; the others skip loading it.
    calendar = selectors.work_calendar() if rule.unit == Unit.WORKING_DAYS else EMPTY_CALENDAR
    deadline = due_at(start, rule.limit, calendar)
    return Timer(
        ticket=ticket,
        name=rule.name,
        rule=rule,
        started_at=start - moved,
        due_at=deadline.due,
        at_risk_at=at_risk_at(start, deadline.due, rule.at_risk_share),
        estimated=deadline.estimated,
        moved_seconds=int(moved.total_seconds()),
        category=ticket.category,
        area_type=ticket.area_type,
        handling_unit_id=ticket.handling_unit_id,
        owner_id=ticket.owner_id,
        is_important=ticket.is_important,
    )


@dataclass(frozen=True)
class TimerChange:
    """What one life-cycle event did to the order's clocks."""

    started: list[Timer]
    # The order's clocks still running after the event (those started included).
    running: list[Timer]
    # Breaches of clocks stopped after their due time that the scanner had not yet recorded
    # (it was down): recorded here, with the true moment; the order's side is followed up
    # by the caller.
    late_breach_ids: list[int]


def timers_on_event(*, ticket: Ticket, event: str, at: datetime) -> TimerChange:
    """Start and stop the order's timers for one life-cycle event.

    Called by ``tickets.services`` inside its transaction, with the order as it is after
    the change. Rules decide which clocks start and stop on which event (the rule versions
    in effect when the order was accepted); ``closed`` (cancelled, merged) stops every
    clock. The dispatch clock starts when the linked call ends (`_call_ended_at`); an order
    dispatched before its call ended never runs one.
    """
    if event not in Event:
        raise ValueError(f"unknown SLA event {event!r}")
    # Always inside the ticket service's transaction: an error here undoes its change too.
    with transaction.atomic(savepoint=False):
        # A new order has no clocks yet.
        new = event == Event.CREATED
        running = (
            []
            if new
            else list(
                Timer.objects.select_for_update()
                .filter(ticket_id=ticket.pk, stopped_at__isnull=True)
                .select_related("rule")
            )
        )
        late = _stop(running, event=event, at=at, ticket=ticket)
        starts: list[tuple[str, datetime]] = []
        if event == Event.CREATED:
            starts.append((Event.CREATED, at))
            call_ended = _call_ended_at(ticket, accepted_at=at)
            if call_ended is not None:
                starts.append((Event.CALL_ENDED, call_ended))
        elif event == Event.CALL_ENDED:
            # Dispatched while the caller was still on the line: no dispatch clock at all.
            if ticket.status == Status.ACCEPTED and not ticket.dispatched_at:
                starts.append((Event.CALL_ENDED, at))
        elif event != Event.CLOSED:
            starts.append((event, at))
        started: list[Timer] = []
        for start_event, start_at in starts:
            started += _start(
                ticket, event=start_event, at=start_at, running=[*running, *started], new=new
            )
        breach_ids = breaches_record(timer_ids=late, now=at) if late else []
    return TimerChange(started=started, running=[*running, *started], late_breach_ids=breach_ids)


def timers_follow_unit(*, ticket: Ticket) -> int:
    """The order moved to another unit (转派) with no life-cycle event: its running clocks
    keep their start and due times (the dispatch clock does not restart) and only their copy
    of the handling unit follows, so dashboards and breach notices name the new unit.
    Returns how many clocks were updated. Called inside the ticket service's transaction."""
    return Timer.objects.filter(ticket_id=ticket.pk, stopped_at__isnull=True).update(
        handling_unit_id=ticket.handling_unit_id
    )


def _stop(running: list[Timer], *, event: str, at: datetime, ticket: Ticket) -> list[int]:
    """Stop the running timers this event stops and bring the order's copies up to date, in
    one UPDATE; returns the ids of stopped timers that ran out with no breach recorded."""
    stopping = [t for t in running if event == Event.CLOSED or t.rule.stop_event == event]
    late: list[int] = []
    for timer in stopping:
        if timer.paused_at is not None:
            _end_pause(timer, at=at)
        timer.stopped_at = at
        if timer.breached_at is None and timer.due_at < at:
            timer.breached_at = timer.due_at
            timer.escalation_level = max(timer.escalation_level, 1)
            late.append(timer.pk)
    # Dashboards count timers by unit, area and importance: follow the order's changes
    # (a dispatch sets the unit, also on the dispatch timer it stops).
    copies = (ticket.handling_unit_id, ticket.area_type, ticket.is_important)
    changed = [t for t in running if (t.handling_unit_id, t.area_type, t.is_important) != copies]
    for timer in changed:
        timer.handling_unit_id, timer.area_type, timer.is_important = copies
    touched = {t.pk: t for t in [*stopping, *changed]}
    if touched:
        Timer.objects.bulk_update(
            list(touched.values()),
            [
                "stopped_at",
                "paused_at",
                "paused_seconds",
                "due_at",
                "at_risk_at",
                "breached_at",
                "escalation_level",
                "handling_unit",
                "area_type",
                "is_important",
            ],
        )
    for timer in stopping:
        running.remove(timer)
    return late


def _start(
    ticket: Ticket, *, event: str, at: datetime, running: list[Timer], new: bool
) -> list[Timer]:
    rules = selectors.rules_starting_on(events=[event], at=ticket.created_at)
    if not rules:
        return []
    # The most specific rule of each timer decides, then its own start event: a timer whose
    # winning rule starts on another event (a two-stage limit's second stage, which starts
    # when the unit hands the order back) does not start now on a general rule.
    named = selectors.rules_named(names={rule.name for rule in rules}, at=ticket.created_at)
    best = {
        name: rule
        for name, rule in selectors.rules_best_for(named, ticket).items()
        if rule.start_event == event
    }
    running_names = {t.name for t in running}
    if event == Event.CALL_ENDED and not new:
        # The call ends once; a clock it started (and that dispatch stopped) is not restarted.
        started_before = set(
            Timer.objects.filter(
                ticket_id=ticket.pk, rule__start_event=Event.CALL_ENDED
            ).values_list("name", flat=True)
        )
        running_names |= started_before
    timers = []
    for name, rule in sorted(best.items()):
        if name in running_names or not _applies(name, ticket):
            continue
        start, moved = at, timedelta(0)
        if name == TimerName.ARRIVAL and ticket.appointment_at and ticket.appointment_at > at:
            # 预约上门: the customer asked the crew to come later; the clock runs from then.
            start, moved = ticket.appointment_at, ticket.appointment_at - at
        timers.append(_new_timer(ticket=ticket, rule=rule, start=start, moved=moved))
    for timer in timers:
        timer.save()
    return timers


def _end_pause(timer: Timer, *, at: datetime) -> timedelta:
    paused_for = max(at - timer.paused_at, timedelta(0))
    timer.due_at = shift_due(timer.due_at, paused_for)
    timer.at_risk_at = shift_due(timer.at_risk_at, paused_for)
    timer.paused_seconds += int(paused_for.total_seconds())
    timer.paused_at = None
    return paused_for


def _locked_timer(timer: Timer) -> Timer:
    return Timer.objects.select_for_update().select_related("rule").get(pk=timer.pk)


def timer_pause(*, timer: Timer, reason: str, now: datetime) -> Timer:
    """Stop a day-based clock while the work waits on the customer (unreachable, waiting for
    documents ...). The reason is required; the paused time is excluded from the limit when
    the clock resumes. Inside the caller's transaction (`tickets.services.ticket_timer_pause`,
    which puts it on the timeline)."""
    locked = _locked_timer(timer)
    if not (reason or "").strip():
        message = _("Give the reason for pausing the clock.")
        raise DomainError(message, field_errors={"reason": [message]})
    if locked.stopped_at is not None:
        raise DomainError(_("This clock has already stopped."))
    if locked.paused_at is not None:
        raise DomainError(_("This clock is already paused."))
    if locked.rule.unit not in DAY_UNITS:
        raise DomainError(_("Only a clock counted in days can be paused; minute limits run on."))
    if locked.breached_at is not None:
        raise DomainError(_("This limit has already been breached; the clock cannot be paused."))
    locked.paused_at = now
    locked.pause_reason = reason.strip()[:200]
    locked.save(update_fields=["paused_at", "pause_reason"])
    return locked


def timer_resume(*, timer: Timer, now: datetime) -> tuple[Timer, timedelta]:
    """Restart a paused clock; the due time moves later by exactly the time it was paused.
    Returns the timer and how long it was paused."""
    locked = _locked_timer(timer)
    if locked.paused_at is None or locked.stopped_at is not None:
        raise DomainError(_("This clock is not paused."))
    paused_for = _end_pause(locked, at=now)
    if locked.at_risk_at > now:
        locked.at_risk_notified_at = None
    locked.save(
        update_fields=["paused_at", "paused_seconds", "due_at", "at_risk_at", "at_risk_notified_at"]
    )
    return locked, paused_for


def arrival_move_to(
    *, ticket: Ticket, appointment_at: datetime, now: datetime
) -> tuple[Timer, timedelta] | None:
    """预约上门: the running arrival clock runs from the appointment instead; its due time
    moves by exactly the time between the clock's (effective) start and the appointment.
    Returns the moved timer and the shift, or None when there is no clock to move (not yet
    dispatched: the clock will start at the appointment; already breached: the breach
    happened and stays)."""
    timer = (
        Timer.objects.select_for_update()
        .filter(ticket_id=ticket.pk, name=TimerName.ARRIVAL, stopped_at__isnull=True)
        .first()
    )
    if timer is None or timer.breached_at is not None:
        return None
    effective_start = timer.started_at + timedelta(seconds=timer.moved_seconds)
    shift = appointment_at - effective_start
    timer.due_at = shift_due(timer.due_at, shift)
    timer.at_risk_at = shift_due(timer.at_risk_at, shift)
    timer.moved_seconds += int(shift.total_seconds())
    if timer.at_risk_at > now:
        timer.at_risk_notified_at = None
    timer.save(update_fields=["due_at", "at_risk_at", "moved_seconds", "at_risk_notified_at"])
    return timer, shift
