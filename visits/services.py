"""Writes of the return visit (回访): the verdict, the calls that did not reach, the outage's
one visit. The page and the REST API's `visit` action call these; what happens to the
order itself (its state, its timeline, its clocks) is `tickets.services.ticket_visit` /
`tickets_visit_for_outage`, called inside the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from outages.models import Outage, OutageDispatch
from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from tickets import services as ticket_services
from tickets.models import Satisfaction, Status, Ticket
from visits.models import Visit, VisitAttempt, VisitPolicy, VisitReason, VisitStatus


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _reason_checked(*, satisfaction: str, reason: str) -> VisitReason | None:
    """A dissatisfied verdict may name an active reason code; other verdicts take none."""
    if satisfaction not in Satisfaction:
        message = _("Choose the customer's satisfaction.")
        raise DomainError(message, field_errors={"satisfaction": [message]})
    reason = (reason or "").strip()
    if satisfaction != Satisfaction.DISSATISFIED:
        if reason:
            message = _("A reason is given only for a dissatisfied customer.")
            raise DomainError(message, field_errors={"reason": [message]})
        return None
    if not reason:
        # Older API clients send no reason: the visit counts, with no reason given. The
        # return-visit page asks for one (visits.forms.VisitForm).
        return None
    found = VisitReason.objects.filter(code=reason, is_active=True).first()
    if found is None:
        message = _("Unknown dissatisfaction reason.")
        raise DomainError(message, field_errors={"reason": [message]})
    return found


def _ticket_visitable(ticket: Ticket) -> Ticket:
    """Lock the order and refuse one that is visited through something else."""
    locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if locked.master_id is not None:
        raise NotAllowed(_("This order is visited through its master order."))
    if locked.outage_id is not None:
        raise NotAllowed(_("This order is visited once with its outage."))
    if locked.status != Status.RESOLVED:
        raise NotAllowed(
            _("Only a resolved order is visited; this one is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    return locked


def _open_visit(
    *, ticket: Ticket | None = None, outage: Outage | None = None, now: datetime
) -> Visit:
    """The visit in progress (locked), or a new one."""
    lookup = {"ticket": ticket} if ticket is not None else {"outage": outage}
    visit = Visit.objects.select_for_update().filter(status=VisitStatus.OPEN, **lookup).first()
    if visit is None:
        unit_id = ticket.handling_unit_id if ticket is not None else None
        visit = Visit.objects.create(created_at=now, handling_unit_id=unit_id, **lookup)
    return visit


def _close(
    visit: Visit,
    *,
    status: str,
    actor: Actor,
    now: datetime,
    satisfaction: str = "",
    reason: VisitReason | None = None,
    note: str = "",
    covered: int = 1,
) -> Visit:
    visit.status, visit.satisfaction, visit.reason, visit.note = status, satisfaction, reason, note
    visit.closed_at, visit.closed_by_id, visit.next_attempt_at = now, actor.user_id, None
    visit.orders_covered = covered
    visit.save()
    return visit


@transaction.atomic
def visit_record(
    *,
    ticket: Ticket,
    actor: Actor,
    satisfaction: str,
    reason: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Visit:
    """The customer was reached: record the verdict (and, dissatisfied, the reason code).

    A dissatisfied verdict reopens the order to its unit (`ticket_visit`) and counts
    against that unit. A master order's visit answers for its children too.
    """
    now = _now(now)
    note = (note or "").strip()
    found = _reason_checked(satisfaction=satisfaction, reason=reason)
    locked = _ticket_visitable(ticket)
    visit = _open_visit(ticket=locked, now=now)
    visit.handling_unit_id = locked.handling_unit_id
    visit.ticket = ticket_services.ticket_visit(
        ticket=locked,
        actor=actor,
        satisfaction=satisfaction,
        reason=found.code if found else "",
        note=note,
        now=now,
    )
    covered = 1 + Ticket.objects.filter(master_id=locked.pk).count()
    return _close(
        visit,
        status=VisitStatus.DONE,
        actor=actor,
        now=now,
        satisfaction=satisfaction,
        reason=found,
        note=note,
        covered=covered,
    )


def ticket_visit_through_visits(
    *,
    ticket: Ticket,
    actor: Actor,
    satisfaction: str,
    reason: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """`visit_record` for the interfaces that answer with the order (the order page, the
    REST API's `visit` action)."""
    visit = visit_record(
        ticket=ticket, actor=actor, satisfaction=satisfaction, reason=reason, note=note, now=now
    )
    return visit.ticket


def _attempt(visit: Visit, *, actor: Actor, note: str, now: datetime) -> tuple[Visit, bool]:
    """Count one call that did not reach; True when it was the last one allowed."""
    if visit.next_attempt_at is not None and now < visit.next_attempt_at:
        raise DomainError(
            _("The next attempt is due from %(at)s.")
            % {"at": timezone.localtime(visit.next_attempt_at).strftime("%Y-%m-%d %H:%M")}
        )
    policy = VisitPolicy.current()
    visit.attempts += 1
    VisitAttempt.objects.create(
        visit=visit, number=visit.attempts, at=now, by_id=actor.user_id, note=note[:200]
    )
    last = visit.attempts >= policy.max_attempts
    if not last:
        visit.next_attempt_at = now + timedelta(minutes=policy.retry_minutes)
        visit.save(update_fields=["attempts", "next_attempt_at"])
    return visit, last


@transaction.atomic
def visit_attempt_unreached(
    *, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Visit:
    """The customer could not be reached: one more attempt. After the last one allowed
    (`VisitPolicy.max_attempts`) the visit is closed as unreachable and the order moves
    to visited with no satisfaction: it leaves the satisfaction rate and is counted as
    unreachable against its unit. Before that, the next attempt waits `retry_minutes`."""
    now = _now(now)
    note = (note or "").strip()
    locked = _ticket_visitable(ticket)
    visit, last = _attempt(_open_visit(ticket=locked, now=now), actor=actor, note=note, now=now)
    if not last:
        return visit
    closing = note or _("Could not reach the customer after %(n)s attempts.") % {
        "n": visit.attempts
    }
    visit.ticket = ticket_services.ticket_visit(
        ticket=locked, actor=actor, unreachable=True, note=closing, now=now
    )
    visit.handling_unit_id = locked.handling_unit_id
    return _close(visit, status=VisitStatus.UNREACHABLE, actor=actor, now=now, note=closing)


def _outage_visitable(outage: Outage) -> Outage:
    locked = Outage.objects.select_for_update().get(pk=outage.pk)
    if locked.visit_due_at is None:
        raise NotAllowed(_("The outage's return visit is due once it is over."))
    if Visit.objects.filter(outage=locked).exclude(status=VisitStatus.OPEN).exists():
        raise NotAllowed(_("This outage's return visit is already recorded."))
    return locked


@transaction.atomic
def visit_record_for_outage(
    *,
    outage: Outage,
    actor: Actor,
    satisfaction: str,
    reason: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Visit:
    """The outage's one return visit, recorded for every order resolved with it (set-based).
    A dissatisfied verdict reopens nothing (the outage is over) and counts once."""
    now = _now(now)
    note = (note or "").strip()
    found = _reason_checked(satisfaction=satisfaction, reason=reason)
    locked = _outage_visitable(outage)
    visit = _open_visit(outage=locked, now=now)
    covered = ticket_services.tickets_visit_for_outage(
        outage=locked,
        actor=actor,
        satisfaction=satisfaction,
        reason=found.code if found else "",
        note=note,
        now=now,
    )
    visit.handling_unit_id = _outage_unit_id(locked)
    return _close(
        visit,
        status=VisitStatus.DONE,
        actor=actor,
        now=now,
        satisfaction=satisfaction,
        reason=found,
        note=note,
        covered=covered,
    )


@transaction.atomic
def visit_attempt_unreached_for_outage(
    *, outage: Outage, actor: Actor, note: str = "", now: datetime | None = None
) -> Visit:
    """As `visit_attempt_unreached`, for the outage's one visit."""
    now = _now(now)
    note = (note or "").strip()
    locked = _outage_visitable(outage)
    visit, last = _attempt(_open_visit(outage=locked, now=now), actor=actor, note=note, now=now)
    if not last:
        return visit
    closing = note or _("Could not reach the customer after %(n)s attempts.") % {
        "n": visit.attempts
    }
    covered = ticket_services.tickets_visit_for_outage(
        outage=locked, actor=actor, unreachable=True, note=closing, now=now
    )
    visit.handling_unit_id = _outage_unit_id(locked)
    return _close(
        visit,
        status=VisitStatus.UNREACHABLE,
        actor=actor,
        now=now,
        note=closing,
        covered=covered,
    )


def _outage_unit_id(outage: Outage) -> int | None:
    """The unit an outage's visit counts against: the crew the outage was dispatched to."""
    return OutageDispatch.objects.filter(outage=outage).values_list("unit_id", flat=True).first()
