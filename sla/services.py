"""Writes of the SLA engine: timers started and stopped by life-cycle events, pauses and
appointments, the scanner that records at-risk warnings, breaches and escalations, breach
acknowledgements and in-app notifications.

``tickets.services`` calls ``sla_ticket_event`` inside its own transaction for every
life-cycle event; Celery beat calls ``sla_scan`` every few seconds (``sla.tasks``).
The deadline arithmetic itself is pure and lives in ``sla.policy``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from calls.models import Call
from customers.models import HandlingUnit
from servicedesk import sql
from sla import selectors
from sla.models import (
    DAY_UNITS,
    Breach,
    EscalationStep,
    Event,
    Holiday,
    HolidayYear,
    Notification,
    NotificationKind,
    SlaRule,
    Timer,
    TimerName,
)
from sla.policy import (
    EMPTY_CALENDAR,
    Unit,
    at_risk_at,
    china_calendar_rows,
    due_at,
    shift_due,
)
from tickets.models import Category, ReplyForm, Status, Ticket, TicketEvent

if TYPE_CHECKING:
    from tickets.services import Actor

logger = logging.getLogger(__name__)

# The scanner leaves the slow follow-up of a breach (marking the order supervised, e-mail)
# to a second, bounded pass, so recording a storm of breaches stays one quick transaction.
FOLLOWUP_BATCH: int = getattr(settings, "SLA_FOLLOWUP_BATCH", 500)
SYSTEM_LABEL = "sla"


class SlaError(Exception):
    """An SLA action the rules refuse (pausing a minute clock, a past appointment ...)."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


@dataclass(frozen=True)
class ScanResult:
    """What one pass of the scanner did: counts of new at-risk warnings, breaches, escalations."""

    at_risk: int = 0
    breached: int = 0
    escalated: int = 0
    followed_up: int = 0
    breach_ids: tuple[int, ...] = field(default=(), repr=False)


# --- Timers on life-cycle events -----------------------------------------------------------


def _call_in_progress(ticket: Ticket) -> bool:
    """The order was taken while its call is still on the line (the dispatch clock waits)."""
    if not ticket.call_id:
        return False
    call = (
        ticket.call
        if Ticket.call.is_cached(ticket)
        else Call.objects.only("hangup_at").get(pk=ticket.call_id)
    )
    return call.hangup_at is None


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
    return sql.new(
        Timer,
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


def sla_ticket_event(*, ticket: Ticket, event: str, at: datetime) -> list[Timer]:
    """Start and stop the order's timers for one life-cycle event; returns the timers started.

    Called by ``tickets.services`` inside its transaction, with the order as it is after
    the change. Rules decide which clocks start and stop on which event (the rule versions
    in effect when the order was accepted); ``closed`` (cancelled, merged) stops every
    clock. The dispatch clock starts when the linked call ends, or at acceptance when no
    call is still in progress; an order dispatched before its call ended never runs one.
    A clock stopped after its due time whose breach the scanner has not recorded yet (the
    scanner was down) gets its breach recorded here, with the true moment.
    """
    if event not in Event:
        raise ValueError(f"unknown SLA event {event!r}")
    # Always inside the caller's transaction; an error here is a bug that must undo the
    # caller's change too, so no savepoint (two statements fewer on every life-cycle event).
    with transaction.atomic(savepoint=False):
        # A brand-new order has no timers yet: save the query on the create path.
        running = (
            []
            if event == Event.CREATED
            else list(
                Timer.objects.select_for_update()
                .filter(ticket_id=ticket.pk, stopped_at__isnull=True)
                .select_related("rule")
            )
        )
        late = _stop(running, event=event, at=at, ticket=ticket)

        start_events = [event]
        if event == Event.CREATED and not _call_in_progress(ticket):
            start_events.append(Event.CALL_ENDED)
        if event == Event.CALL_ENDED and (ticket.status != Status.ACCEPTED or ticket.dispatched_at):
            # Dispatched while the caller was still on the line: no dispatch clock at all.
            start_events = []
        started: list[Timer] = []
        if start_events and event != Event.CLOSED:
            started = _start(ticket, events=start_events, at=at, running=running)
        if late:
            _breaches_record(timer_ids=late, now=at)
    return started


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


def _start(ticket: Ticket, *, events: list[str], at: datetime, running: list[Timer]) -> list[Timer]:
    rules = selectors.rules_starting_on(events=events, at=ticket.created_at)
    if not rules:
        return []
    best = selectors.rules_best_for(rules, ticket)
    running_names = {t.name for t in running}
    if Event.CALL_ENDED in events and Event.CREATED not in events:
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
    sql.insert(*timers)
    return timers


# --- Pauses and appointments ----------------------------------------------------------------


def _timeline(
    ticket_id: int,
    *,
    at: datetime,
    actor: Actor | None,
    action: str,
    note: str,
    data: dict[str, Any],
    kind: str = TicketEvent.Kind.TIMER,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket_id=ticket_id,
        at=at,
        kind=kind,
        actor_id=actor.user_id if actor else None,
        actor_label=(actor.label if actor else SYSTEM_LABEL),
        action=action,
        note=note,
        data=data,
    )


def _end_pause(timer: Timer, *, at: datetime) -> timedelta:
    paused_for = max(at - timer.paused_at, timedelta(0))
    timer.due_at = shift_due(timer.due_at, paused_for)
    timer.at_risk_at = shift_due(timer.at_risk_at, paused_for)
    timer.paused_seconds += int(paused_for.total_seconds())
    timer.paused_at = None
    return paused_for


def _locked_timer(timer: Timer) -> Timer:
    return Timer.objects.select_for_update().select_related("rule").get(pk=timer.pk)


@transaction.atomic
def timer_pause(*, timer: Timer, reason: str, actor: Actor, now: datetime | None = None) -> Timer:
    """Stop a day-based clock while the work waits on the customer (unreachable, waiting for
    documents ...). The reason is required and goes on the timeline; the paused time is
    excluded from the limit when the clock resumes."""
    now = now or timezone.now()
    locked = _locked_timer(timer)
    if not (reason or "").strip():
        message = _("Give the reason for pausing the clock.")
        raise SlaError(message, field_errors={"reason": [message]})
    if locked.stopped_at is not None:
        raise SlaError(_("This clock has already stopped."))
    if locked.paused_at is not None:
        raise SlaError(_("This clock is already paused."))
    if locked.rule.unit not in DAY_UNITS:
        raise SlaError(_("Only a clock counted in days can be paused; minute limits run on."))
    if locked.breached_at is not None:
        raise SlaError(_("This limit has already been breached; the clock cannot be paused."))
    locked.paused_at = now
    locked.pause_reason = reason.strip()[:200]
    locked.save(update_fields=["paused_at", "pause_reason"])
    _timeline(
        locked.ticket_id,
        at=now,
        actor=actor,
        action="pause",
        note=locked.pause_reason,
        data={"timer": locked.name, "due_at": locked.due_at.isoformat()},
    )
    return locked


@transaction.atomic
def timer_resume(
    *, timer: Timer, actor: Actor, note: str = "", now: datetime | None = None
) -> Timer:
    """Restart a paused clock; the due time moves later by exactly the time it was paused."""
    now = now or timezone.now()
    locked = _locked_timer(timer)
    if locked.paused_at is None or locked.stopped_at is not None:
        raise SlaError(_("This clock is not paused."))
    paused_for = _end_pause(locked, at=now)
    if locked.at_risk_at > now:
        locked.at_risk_notified_at = None
    locked.save(
        update_fields=["paused_at", "paused_seconds", "due_at", "at_risk_at", "at_risk_notified_at"]
    )
    _timeline(
        locked.ticket_id,
        at=now,
        actor=actor,
        action="resume",
        note=note.strip(),
        data={
            "timer": locked.name,
            "paused_seconds": int(paused_for.total_seconds()),
            "due_at": locked.due_at.isoformat(),
        },
    )
    return locked


@transaction.atomic
def ticket_set_appointment(
    *,
    ticket: Ticket,
    appointment_at: datetime,
    actor: Actor,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """预约上门: the customer asks the crew to come at a later time.

    The arrival clock then runs from the appointment: its due time moves by exactly the
    time between the clock's (effective) start and the appointment. Set before dispatch,
    the arrival clock starts at the appointment when the order is dispatched. A clock
    already breached is not moved (the breach happened); the appointment is still kept.
    """
    now = now or timezone.now()
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.category != Category.REPAIR or not locked.is_open or locked.status == Status.ON_SITE:
        raise SlaError(_("Only a repair whose crew is not yet on site takes an appointment."))
    if appointment_at <= now:
        message = _("The appointment must be later than now.")
        raise SlaError(message, field_errors={"appointment_at": [message]})
    Ticket.objects.filter(pk=locked.pk).update(appointment_at=appointment_at)
    locked.appointment_at = appointment_at
    data: dict[str, Any] = {"appointment_at": appointment_at.isoformat()}
    timer = (
        Timer.objects.select_for_update()
        .filter(ticket_id=locked.pk, name=TimerName.ARRIVAL, stopped_at__isnull=True)
        .first()
    )
    if timer is not None and timer.breached_at is None:
        effective_start = timer.started_at + timedelta(seconds=timer.moved_seconds)
        shift = appointment_at - effective_start
        timer.due_at = shift_due(timer.due_at, shift)
        timer.at_risk_at = shift_due(timer.at_risk_at, shift)
        timer.moved_seconds += int(shift.total_seconds())
        if timer.at_risk_at > now:
            timer.at_risk_notified_at = None
        timer.save(update_fields=["due_at", "at_risk_at", "moved_seconds", "at_risk_notified_at"])
        data |= {
            "timer": timer.name,
            "due_at": timer.due_at.isoformat(),
            "moved_seconds": int(shift.total_seconds()),
        }
    _timeline(locked.pk, at=now, actor=actor, action="appointment", note=note.strip(), data=data)
    return locked


# --- Vendor-neutral SQL helpers ---------------------------------------------------------------


def _dt(value: datetime) -> Any:
    """A datetime as raw SQL needs it (SQLite stores naive UTC text; PostgreSQL takes it as is)."""
    return connection.ops.adapt_datetimefield_value(value)


def _ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``column IN ids`` with a single parameter, however many ids (PostgreSQL / SQLite)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]


def _json_object(*pairs: tuple[str, str]) -> str:
    func = "jsonb_build_object" if connection.vendor == "postgresql" else "json_object"
    arguments = ", ".join(f"'{key}', {expr}" for key, expr in pairs)
    return f"{func}({arguments})"


def _case_by_name(column: str, texts: dict[str, str]) -> tuple[str, list[Any]]:
    """A SQL CASE giving a (translated) text per timer name, with the texts as parameters."""
    sql = " ".join("WHEN %s THEN %s" for _name in texts)
    params: list[Any] = []
    for name, text in texts.items():
        params += [name, text]
    return f"CASE {column} {sql} ELSE '' END", params


def _tables() -> dict[str, str]:
    return {
        "timer": Timer._meta.db_table,
        "breach": Breach._meta.db_table,
        "notification": Notification._meta.db_table,
        "ticket": Ticket._meta.db_table,
        "event": TicketEvent._meta.db_table,
        "unit": HandlingUnit._meta.db_table,
        "supervisors": HandlingUnit.supervisors.through._meta.db_table,
        "members": HandlingUnit.members.through._meta.db_table,
    }


def _message_parts(template: str) -> dict[str, tuple[str, str]]:
    """Timer name → (text before, text after) the order number, in the default language.

    Notifications are stored as text once, in the language of the centre, and must be
    built inside SQL for thousands of rows at a time.
    """
    parts = {}
    with translation.override(settings.LANGUAGE_CODE):
        for name, label in TimerName.choices:
            text = template % {"timer": str(label), "number": "\x00"}
            before, _sep, after = text.partition("\x00")
            parts[name] = (before, after)
    return parts


# --- Breaches ---------------------------------------------------------------------------------


def _breaches_record(*, timer_ids: Sequence[int], now: datetime) -> list[int]:
    """Insert the breach rows of timers just claimed (``breached_at`` set by the caller's
    conditional write), notify the unit supervisors (ladder level 1) and put each breach on
    its order's timeline — three set-based statements, whatever the number of breaches.
    The orders themselves are written by the follow-up (``breach_followup``).

    ``ON CONFLICT DO NOTHING`` on the one-to-one timer column is the second guard: a breach
    row can exist only once per timer even if two writers got this far.
    """
    if not timer_ids:
        return []
    t = _tables()
    where, params = _ids_in("t.id", timer_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {t["breach"]} (ticket_id, timer_id, name, occurred_at, recorded_at, category,
                                       area_type, handling_unit_id, owner_id, acknowledgement)
            SELECT t.ticket_id, t.id, t.name, t.due_at, %s, t.category, t.area_type,
                   t.handling_unit_id, t.owner_id, ''
            FROM {t["timer"]} t
            WHERE {where} AND t.breached_at IS NOT NULL
            ON CONFLICT (timer_id) DO NOTHING
            RETURNING id
            """,
            [_dt(now), *params],
        )
        breach_ids = [row[0] for row in cursor.fetchall()]
    if not breach_ids:
        return []
    _notify_supervisors(ids=breach_ids, levels_up=0, kind=NotificationKind.BREACH, now=now)
    _breach_timeline(breach_ids=breach_ids)
    return breach_ids


def _breach_timeline(*, breach_ids: Sequence[int]) -> None:
    t = _tables()
    with translation.override(settings.LANGUAGE_CODE):
        notes = {
            name: _("%(timer)s time limit breached") % {"timer": label}
            for name, label in TimerName.choices
        }
    case_sql, case_params = _case_by_name("b.name", notes)
    where, params = _ids_in("b.id", breach_ids)
    data = _json_object(("timer", "b.name"), ("breach", "b.id"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {t["event"]} (ticket_id, at, kind, actor_id, actor_label, action,
                                      from_status, to_status, note, data)
            SELECT b.ticket_id, b.occurred_at, %s, NULL, %s, 'breach', '', '', {case_sql}, {data}
            FROM {t["breach"]} b
            WHERE {where}
            """,
            [TicketEvent.Kind.BREACH.value, SYSTEM_LABEL, *case_params, *params],
        )


def _notify_supervisors(
    *, ids: Sequence[int], key: str = "b.id", levels_up: int, kind: str, now: datetime
) -> int:
    """Notify, for each breach, the supervisors of the unit ``levels_up`` steps above its
    handling unit — in one INSERT … SELECT.

    An order not yet dispatched has no handling unit (a dispatch breach): the owner agent's
    call-centre unit stands in, else the first active call-centre unit.
    """
    t = _tables()
    if kind == NotificationKind.BREACH:
        template = _("%(timer)s time limit breached: order %(number)s")
    else:
        template = _("Escalated: %(timer)s time limit still breached on order %(number)s")
    parts = _message_parts(template)
    before_sql, before_params = _case_by_name("b.name", {n: p[0] for n, p in parts.items()})
    after_sql, after_params = _case_by_name("b.name", {n: p[1] for n, p in parts.items()})
    fallback = (
        HandlingUnit.objects.filter(kind=HandlingUnit.Kind.CALL_CENTRE, is_active=True)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    joins = [
        f"""JOIN {t["unit"]} u0 ON u0.id = COALESCE(
                b.handling_unit_id,
                (SELECT cu.id FROM {t["members"]} m JOIN {t["unit"]} cu ON cu.id = m.handlingunit_id
                 WHERE m.user_id = b.owner_id AND cu.kind = %s AND cu.is_active
                 ORDER BY cu.code LIMIT 1),
                %s)"""
    ]
    join_params: list[Any] = [HandlingUnit.Kind.CALL_CENTRE.value, fallback]
    for level in range(1, levels_up + 1):
        joins.append(f"JOIN {t['unit']} u{level} ON u{level}.id = u{level - 1}.parent_id")
    where, params = _ids_in(key, ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {t["notification"]} (recipient_id, ticket_id, breach_id, kind, message, created_at)
            SELECT DISTINCT s.user_id, b.ticket_id, b.id, %s, {before_sql} || tk.number || {after_sql}, %s
            FROM {t["breach"]} b
            JOIN {t["ticket"]} tk ON tk.id = b.ticket_id
            {" ".join(joins)}
            JOIN {t["supervisors"]} s ON s.handlingunit_id = u{levels_up}.id
            WHERE {where}
            """,
            [kind, *before_params, *after_params, _dt(now), *join_params, *params],
        )
        return cursor.rowcount


def _claim(
    *, set_sql: str, set_params: list[Any], where: str, where_params: list[Any], returning: str
) -> list[tuple[Any, ...]]:
    """A conditional UPDATE of the timers matching ``where`` (columns of ``t``), returning rows.

    On PostgreSQL the rows are picked with ``SKIP LOCKED``, the timer row for update and its
    order row for key share: a row another scanner holds is left to it (so two scanners
    never both claim it, and never wait on each other), and a timer whose order a ticket
    service is changing right now is left to that service (which records a late breach
    itself) or to the next pass — the scanner never waits on a lock while holding others,
    so it cannot deadlock with the services. SQLite has one writer at a time anyway.
    """
    t = _tables()
    if connection.vendor == "postgresql":
        # The order row is locked inside a LATERAL subquery, so each timer probes its order by
        # primary key: the plan stays a short nested loop even when the planner misjudges how
        # many timers match (a hash join would read every order). ARRAY(...) is computed
        # once, so the UPDATE reaches each timer through the primary key too.
        chosen = (
            f"SELECT t.id FROM {t['timer']} t CROSS JOIN LATERAL ("
            f"SELECT k.id FROM {t['ticket']} k WHERE k.id = t.ticket_id FOR KEY SHARE SKIP LOCKED"
            f") k WHERE {where} FOR NO KEY UPDATE OF t SKIP LOCKED"
        )
        target = f"id = ANY(ARRAY({chosen}))"
    else:
        target = f"id IN (SELECT t.id FROM {t['timer']} t WHERE {where})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t['timer']} SET {set_sql} WHERE {target} RETURNING {returning}",
            [*set_params, *where_params],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _ladder() -> dict[int, dict[str, timedelta]]:
    """Level (2, 3, ...) → timer name → how long after its breach a still-running timer
    reaches that level. A level is reached only through the ones below it, so the wait is
    the longest of the steps so far; a step for one timer name replaces the general one."""
    steps = {
        (s.name, s.level): s for s in EscalationStep.objects.filter(is_active=True, level__gte=2)
    }
    ladder: dict[int, dict[str, timedelta]] = {}
    for name in TimerName.values:
        waited, level = timedelta(0), 2
        while (step := steps.get((name, level)) or steps.get(("", level))) is not None:
            waited = max(waited, timedelta(minutes=step.after_minutes))
            ladder.setdefault(level, {})[name] = waited
            level += 1
    return ladder


def _by_wait(names: dict[str, timedelta]) -> dict[timedelta, list[str]]:
    groups: dict[timedelta, list[str]] = {}
    for name, wait in names.items():
        groups.setdefault(wait, []).append(name)
    return groups


def _claim_due(*, now: datetime, ladder: dict[int, dict[str, timedelta]]) -> list[tuple[int, int]]:
    """Claim every running timer whose due time has passed; returns (timer id, level).

    The moment of the breach is its due time, however late this pass runs. A pass catching
    up on a breach that is already older than a rung of the ladder sets that level at once
    (one write per timer instead of one per level); the caller notifies every level reached.
    """
    cases, params = [], []
    for level in sorted(ladder, reverse=True):
        for wait, names in _by_wait(ladder[level]).items():
            placeholders = ", ".join("%s" for _n in names)
            cases.append(f"WHEN name IN ({placeholders}) AND due_at <= %s THEN {int(level)}")
            params += [*names, _dt(now - wait)]
    level_sql = f"CASE {' '.join(cases)} ELSE 1 END" if cases else "1"
    rows = _claim(
        set_sql=f"breached_at = due_at, escalation_level = {level_sql}",
        set_params=params,
        where="t.stopped_at IS NULL AND t.breached_at IS NULL AND t.paused_at IS NULL AND t.due_at < %s",
        where_params=[_dt(now)],
        returning="id, escalation_level",
    )
    return [(row[0], row[1]) for row in rows]


def _claim_at_risk(*, now: datetime) -> list[tuple[Any, ...]]:
    return _claim(
        set_sql="at_risk_notified_at = %s",
        set_params=[_dt(now)],
        where=(
            "t.stopped_at IS NULL AND t.at_risk_notified_at IS NULL AND t.breached_at IS NULL"
            " AND t.paused_at IS NULL AND t.at_risk_at <= %s"
        ),
        where_params=[_dt(now)],
        returning="id, ticket_id, name, owner_id, handling_unit_id",
    )


def _notify_at_risk(
    rows: list[tuple[int, int, str, int | None, int | None]], *, now: datetime
) -> int:
    """At-risk warnings go to the handler first: the member who acknowledged the order; before
    anyone has, the unit's members; before dispatch, the owner agent (first contact)."""
    if not rows:
        return 0
    ticket_ids = {row[1] for row in rows}
    tickets = {
        pk: (number, handler_id)
        for pk, number, handler_id in Ticket.objects.filter(pk__in=ticket_ids).values_list(
            "pk", "number", "handler_id"
        )
    }
    unit_ids = {row[4] for row in rows if row[4] is not None}
    members: dict[int, list[int]] = {}
    for unit_id, user_id in HandlingUnit.members.through.objects.filter(
        handlingunit_id__in=unit_ids
    ).values_list("handlingunit_id", "user_id"):
        members.setdefault(unit_id, []).append(user_id)
    with translation.override(settings.LANGUAGE_CODE):
        labels = dict(TimerName.choices)
        notifications = []
        for _timer_id, ticket_id, name, owner_id, unit_id in rows:
            number, handler_id = tickets[ticket_id]
            if handler_id:
                recipients = [handler_id]
            elif unit_id and name != TimerName.DISPATCH:
                recipients = members.get(unit_id, [])
            else:
                recipients = [owner_id] if owner_id else []
            message = _("%(timer)s time limit at risk: order %(number)s") % {
                "timer": labels[name],
                "number": number,
            }
            notifications += [
                Notification(
                    recipient_id=user_id,
                    ticket_id=ticket_id,
                    kind=NotificationKind.AT_RISK,
                    message=message[:300],
                    created_at=now,
                )
                for user_id in recipients
            ]
    Notification.objects.bulk_create(notifications, batch_size=1000)
    return len(rows)


def _escalate(*, now: datetime, ladder: dict[int, dict[str, timedelta]]) -> int:
    """Climb the ladder: a timer still running long enough after its breach notifies the
    supervisors one unit further up. Each level is claimed with a conditional UPDATE on
    ``escalation_level`` (from the level below), so it fires once per timer."""
    escalated = 0
    for level in sorted(ladder):
        for wait, names in _by_wait(ladder[level]).items():
            placeholders = ", ".join("%s" for _n in names)
            rows = _claim(
                set_sql="escalation_level = %s",
                set_params=[level],
                where=(
                    "t.stopped_at IS NULL AND t.breached_at IS NOT NULL AND t.escalation_level = %s"
                    f" AND t.breached_at <= %s AND t.name IN ({placeholders})"
                ),
                where_params=[level - 1, _dt(now - wait), *names],
                returning="id",
            )
            if rows:
                _notify_supervisors(
                    ids=[row[0] for row in rows],
                    key="b.timer_id",
                    levels_up=level - 1,
                    kind=NotificationKind.ESCALATION,
                    now=now,
                )
                escalated += len(rows)
    return escalated


def sla_scan(*, now: datetime, followup_limit: int | None = None) -> ScanResult:
    """One pass of the scanner (Celery beat every few seconds; ``manage.py sla_scan``; tests).

    In one transaction: record every breach whose due time passed (with that due time as
    its moment, however late the scanner runs), warn the timers at risk, climb the
    escalation ladder. Then, in a second bounded pass, follow up recorded breaches (order
    marked supervised, optional e-mail); ``followup_limit=0`` skips it.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Short statements on a few rows: compiling them (JIT, which a misjudged row count
            # can trigger) costs more than it could ever save.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        ladder = _ladder()
        claimed = _claim_due(now=now, ladder=ladder)
        breach_ids = _breaches_record(timer_ids=[timer_id for timer_id, _level in claimed], now=now)
        escalated = 0
        for level in sorted(ladder):
            reached = [timer_id for timer_id, claimed_level in claimed if claimed_level >= level]
            if reached:
                _notify_supervisors(
                    ids=reached,
                    key="b.timer_id",
                    levels_up=level - 1,
                    kind=NotificationKind.ESCALATION,
                    now=now,
                )
                escalated += len(reached)
        at_risk = _notify_at_risk(_claim_at_risk(now=now), now=now)
        escalated += _escalate(now=now, ladder=ladder)
    followed_up = breach_followup(
        now=now, limit=FOLLOWUP_BATCH if followup_limit is None else followup_limit
    )
    if breach_ids or at_risk or escalated:
        logger.info(
            "sla_scan: %s breached, %s at risk, %s escalated", len(breach_ids), at_risk, escalated
        )
    return ScanResult(
        at_risk=at_risk,
        breached=len(breach_ids),
        escalated=escalated,
        followed_up=followed_up,
        breach_ids=tuple(breach_ids),
    )


def breach_followup(*, now: datetime, limit: int = FOLLOWUP_BATCH) -> int:
    """Flag the orders of recorded breaches breached (`Ticket.breached`, which the lists'
    filter reads), mark them supervised (督办) and send the optional e-mail.

    Claims up to ``limit`` breaches not yet followed up (rows locked by another worker are
    skipped), so several workers share a backlog and none is done twice. The scan runs one
    batch right after recording its breaches; a storm's backlog is drained by
    ``sla.tasks.sla_followup_task`` within seconds.

    The orders are written here rather than in the scan's transaction: one UPDATE per order
    for both marks, where the scan's own write of the flag cost more than recording the
    breaches (an order's row has many index entries to rewrite).
    """
    if limit <= 0:
        return 0
    # Imported here: tickets.services imports this module for its life-cycle events.
    from tickets.services import Actor, tickets_mark_supervised

    actor = Actor(label=SYSTEM_LABEL)
    with transaction.atomic():
        batch = list(
            Breach.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(followed_up_at__isnull=True)
            .select_related("ticket")
            .order_by("id")[:limit]
        )
        if not batch:
            return 0
        # Once per order, and only for orders not flagged or not supervised yet (the usual
        # case after the first breach of an order is that it is both).
        first_breach_of: dict[int, Breach] = {}
        for breach in batch:
            if not (breach.ticket.supervised and breach.ticket.breached):
                first_breach_of.setdefault(breach.ticket_id, breach)
        with translation.override(settings.LANGUAGE_CODE):
            reasons = {
                ticket_id: _("%(timer)s time limit breached") % {"timer": breach.get_name_display()}
                for ticket_id, breach in first_breach_of.items()
            }
        tickets_mark_supervised(reasons=reasons, actor=actor, now=now, breached=True)
        Breach.objects.filter(pk__in=[b.pk for b in batch]).update(followed_up_at=now)
        if settings.SLA_BREACH_EMAIL:
            transaction.on_commit(
                lambda ids=[b.pk for b in batch]: breach_email_send(breach_ids=ids)
            )
    return len(batch)


def breach_email_send(*, breach_ids: Iterable[int]) -> int:
    """E-mail each breach to the unit's supervisors who have an address (SLA_BREACH_EMAIL)."""
    messages = []
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    with translation.override(settings.LANGUAGE_CODE):
        breaches = (
            Breach.objects.filter(pk__in=list(breach_ids))
            .select_related("ticket", "handling_unit")
            .prefetch_related("handling_unit__supervisors")
        )
        for breach in breaches:
            unit = breach.handling_unit
            if unit is None:
                continue
            addresses = [u.email for u in unit.supervisors.all() if u.email]
            if not addresses:
                continue
            subject = _("%(timer)s time limit breached: order %(number)s") % {
                "timer": breach.get_name_display(),
                "number": breach.ticket.number,
            }
            body = _("Due at %(due)s (Beijing time). Unit: %(unit)s.") % {
                "due": timezone.localtime(breach.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                "unit": unit.name,
            }
            messages.append((subject, body, sender, addresses))
    return send_mass_mail(messages, fail_silently=True) if messages else 0


@transaction.atomic
def breach_acknowledge(
    *, breach: Breach, user: Any, comment: str, now: datetime | None = None
) -> Breach:
    """A supervisor acknowledges a breach with a comment (on the breach list); kept on the
    order's timeline. The breach's notifications count as read for everybody."""
    now = now or timezone.now()
    if not (comment or "").strip():
        message = _("Write a comment on the breach.")
        raise SlaError(message, field_errors={"comment": [message]})
    changed = Breach.objects.filter(pk=breach.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=user, acknowledgement=comment.strip()
    )
    if not changed:
        raise SlaError(_("This breach has already been acknowledged."))
    Notification.objects.filter(breach_id=breach.pk, read_at__isnull=True).update(read_at=now)
    breach.refresh_from_db()
    from tickets.services import Actor

    _timeline(
        breach.ticket_id,
        at=now,
        actor=Actor(user=user),
        action="acknowledge",
        note=comment.strip(),
        data={"timer": breach.name, "breach": breach.pk},
        kind=TicketEvent.Kind.BREACH,
    )
    return breach


# --- Notifications -----------------------------------------------------------------------------


def notification_send(
    *,
    recipients: Iterable[Any],
    kind: str,
    message: str,
    ticket: Ticket | None = None,
    breach: Breach | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Send one in-app notification to each recipient (users or user ids), in one INSERT."""
    if kind not in NotificationKind:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = now or timezone.now()
    user_ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    return Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                ticket=ticket,
                breach=breach,
                kind=kind,
                message=message[:300],
                created_at=now,
            )
            for user_id in user_ids
        ]
    )


def notification_send_for_hastening(
    *, ticket: Ticket, now: datetime | None = None
) -> list[Notification]:
    """A caller hastened the order (催办): tell its handler, or the unit's members before anyone
    has acknowledged it, or the owner agent while it is not yet dispatched."""
    if ticket.handler_id:
        recipients: list[Any] = [ticket.handler_id]
    elif ticket.handling_unit_id:
        recipients = list(
            HandlingUnit.members.through.objects.filter(
                handlingunit_id=ticket.handling_unit_id
            ).values_list("user_id", flat=True)
        )
    else:
        recipients = [ticket.owner_id]
    message = _("The caller hastened order %(number)s") % {"number": ticket.number}
    return notification_send(
        recipients=recipients,
        kind=NotificationKind.HASTENING,
        message=message,
        ticket=ticket,
        now=now,
    )


def notification_mark_read(
    *, user: Any, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the user's notifications read (the given ones, or all); returns how many."""
    now = now or timezone.now()
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=now)


# --- Rules ---------------------------------------------------------------------------------------

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


# --- The holiday table ------------------------------------------------------------------------


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
