"""Every write to a work order goes through these functions.

The call-intake page, the crew pages and the REST API call the same function for the same
action. Each runs in one transaction, validates before saving, appends a timeline event,
tells the SLA engine which life-cycle event happened, and raises DomainError (or its
NotAllowed) for anything the rules refuse — in which case nothing is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Q, TextField, Value, When
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from calls import services as call_services
from calls.models import Call, Disposition
from customers.models import AreaType, HandlingUnit
from outages import selectors as outage_selectors
from outages import services as outage_services
from outages.models import Outage
from servicedesk.actors import SLA, Actor
from servicedesk.errors import DomainError, NotAllowed
from sla import selectors as sla_selectors
from sla.models import Breach, Timer, TimerName
from sla.services import breaches as sla_breaches
from sla.services import notifications as sla_notifications
from sla.services import timers as sla_timers
from tickets import routing
from tickets.intake import TicketDraft, draft_clean
from tickets.lifecycle import OUTAGE_ENDED_SOURCES, OUTAGE_ENDED_TARGET, Action, target_of
from tickets.models import (
    AssetOwner,
    Category,
    Channel,
    Hastening,
    ReplyForm,
    Satisfaction,
    Status,
    Ticket,
    TicketEvent,
)

BEIJING = ZoneInfo("Asia/Shanghai")
# Several hastenings mark an order supervised (督办); supervisors see those first.
HASTENINGS_TO_SUPERVISE: int = getattr(settings, "TICKETS_HASTENINGS_TO_SUPERVISE", 2)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def ticket_number_for(*, pk: int, created_at: datetime) -> str:
    """Human-readable and sortable: Beijing date of acceptance + the row id, zero-padded.

    Derived from the primary key, so numbers are unique without a shared counter and
    without contention when many processes create orders at the same moment.
    """
    return f"{created_at.astimezone(BEIJING):%Y%m%d}{pk:010d}"


def _event(
    ticket: Ticket,
    *,
    at: datetime,
    kind: str,
    actor: Actor,
    action: str = "",
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        at=at,
        kind=kind,
        actor_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )


def _sla(ticket: Ticket, *, event: str, at: datetime) -> None:
    """Tell the SLA engine what happened; it starts and stops the clocks, and the order
    keeps a copy of the running ones' due times (`Ticket.deadlines`, saved by the caller's
    `_save`). A clock stopped after its due time whose breach the scanner had not yet
    recorded gets its breach now, and the order its follow-up, in the same transaction."""
    change = sla_timers.timers_on_event(ticket=ticket, event=event, at=at)
    ticket.deadlines = deadlines_text(change.running)
    if change.late_breach_ids:
        breaches = list(Breach.objects.filter(pk__in=change.late_breach_ids))
        _breaches_follow_up(breaches, now=at)


def deadlines_text(timers: Sequence[Timer]) -> dict[str, str]:
    """Timer name → due time (ISO-8601, Beijing offset), soonest first: what the order keeps
    of its running clocks, so the lists show them without reading the timers."""
    ordered = sorted(timers, key=lambda timer: (timer.due_at, timer.pk or 0))
    return {timer.name: timer.due_at.astimezone(BEIJING).isoformat() for timer in ordered}


def _deadlines_refresh(ticket: Ticket) -> None:
    """Re-read the running clocks after one of them moved (a resumed pause)."""
    ticket.deadlines = deadlines_text(list(sla_selectors.running_timers(ticket)))
    ticket.save(update_fields=["deadlines", "updated_at"])


# --- Create ---------------------------------------------------------------------------------


def ticket_create(
    *,
    draft: TicketDraft,
    actor: Actor,
    require_details: bool = False,
    dispatch: bool = False,
    handling_unit: HandlingUnit | None = None,
    link_outage: bool = False,
    outage: Outage | None = None,
    link_note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Take a new order from any channel. Times are the server's clock (UTC).

    The draft is checked by `tickets.intake.draft_clean`: a wrong value is refused with a
    message per field; a detail the category needs and the caller did not give is refused
    when `require_details` (the agent on the call asks for it) and otherwise taken and
    listed in `to_complete` for the handler.

    - `draft.answer_on_call`: an inquiry answered while the caller is on the line is
      resolved at once.
    - `draft.inside_customer_installation`: a repair whose fault is the customer's own is
      guided by phone and resolved at once, without a crew (paid beyond the property boundary).
    - `dispatch`: send it on to its handling unit in the same transaction (the console's submit).
    - A repair whose area type is unknown is still taken: urban (the strictest limit) applies
      and the order is flagged for the agent to confirm.
    - `link_outage` (the API's creates): a repair from a caller whose account or area an
      active outage covers is linked to that outage (merged, no crew sent) in the same
      transaction; the order's `outage` is then set. The console offers the link to the
      agent instead (`ticket_create_for_outage`, which names the `outage`).
    - A linked order is born merged into its outage: no crew is sent and no clock of its
      own starts (the outage's reporting limits cover it), so a storm's calls cost no more
      than plain ones.
    """
    now = _now(now)
    draft, to_complete = draft_clean(draft, require_details=require_details)
    with transaction.atomic():
        customer = draft.customer
        service_area = draft.service_area or (customer.service_area if customer else None)
        area_type = draft.area_type or (service_area.area_type if service_area else "")
        call = None
        if draft.call_id:
            call, _created = Call.objects.get_or_create(
                call_id=draft.call_id,
                defaults={"caller_phone": draft.caller_phone, "agent_id": actor.user_id},
            )
        repair = draft.category == Category.REPAIR
        inside = draft.inside_customer_installation
        asset_owner = draft.asset_owner or (("customer" if inside else "utility") if repair else "")
        # Service on utility-owned facilities is free; work inside the customer's own
        # installation is paid. The agent may override with a reason.
        is_paid = (asset_owner == "customer") != bool(draft.paid_override_reason)
        ticket = Ticket(
            category=draft.category,
            subtype=draft.subtype,
            detail=draft.detail,
            channel=draft.channel,
            status=Status.ACCEPTED,
            caller_phone=draft.caller_phone,
            call_at=draft.call_at or (call.ring_at if call and call.ring_at else now),
            call=call,
            customer=customer,
            address=draft.address or (customer.address if customer else ""),
            description=draft.description,
            owner_id=actor.user_id,
            created_via=actor.label if actor.user is None else "",
            service_area=service_area,
            area_type=area_type or AreaType.URBAN,
            area_type_unconfirmed=not area_type,
            to_complete=to_complete,
            is_important=bool(customer and customer.is_important),
            reply_form=draft.reply_form or (ReplyForm.ON_CALL if draft.answer_on_call else ""),
            knowledge_article=draft.knowledge_article,
            resident_id=draft.resident_id,
            contact_name=draft.contact_name,
            contact_phone=draft.contact_phone,
            application_channel=draft.application_channel,
            feeder=draft.feeder or (customer.feeder if customer else ""),
            transformer_area=draft.transformer_area
            or (customer.transformer_area if customer else ""),
            inside_customer_installation=inside,
            asset_owner=asset_owner,
            is_paid=is_paid,
            paid_override_reason=draft.paid_override_reason,
            party=draft.party,
            created_at=now,
        )
        look_up = repair and link_outage and not inside
        linked = _outage_to_link(ticket, outage=outage, look_up=look_up, now=now)
        if linked is not None:
            ticket.status, ticket.outage, ticket.closed_at = Status.MERGED, linked, now
        ticket.save()
        # The number derives from the id the insert drew.
        ticket.number = ticket_number_for(pk=ticket.pk, created_at=now)
        _event(
            ticket, at=now, kind=TicketEvent.Kind.CREATED, actor=actor, to_status=Status.ACCEPTED
        )
        if call is not None and not call.disposition:
            disposition = Disposition.ORDER if linked is None else Disposition.OUTAGE_INFO
            Call.objects.filter(pk=call.pk, disposition="").update(disposition=disposition)
        if linked is not None:
            _event(
                ticket,
                at=now,
                kind=TicketEvent.Kind.STATUS,
                actor=actor,
                action=Action.MERGE,
                from_status=Status.ACCEPTED,
                to_status=Status.MERGED,
                note=_("Linked to the outage covering the caller's area.")
                if outage is None
                else link_note,
                data={"outage": linked.number},
            )
            ticket.save(update_fields=["number"])
            return ticket
        _sla(ticket, event="created", at=now)
        ticket.save(update_fields=["number", "deadlines"])

        if draft.category == Category.INQUIRY and draft.answer_on_call:
            return ticket_resolve(ticket=ticket, actor=actor, reply=draft.reply, now=now)
        if repair and inside:
            return ticket_resolve(
                ticket=ticket,
                actor=actor,
                now=now,
                work_done=_(
                    "Fault inside the customer's installation: guided by phone, no crew sent."
                ),
            )
        if dispatch:
            unit = handling_unit or _routed_unit(ticket)
            if unit is None:
                return _keep_unrouted(ticket, actor=actor, now=now)
            return ticket_dispatch(ticket=ticket, actor=actor, unit=unit, now=now)
        return ticket


def _routed_unit(ticket: Ticket) -> HandlingUnit | None:
    """The unit the routing rules send the order to (`tickets.routing`), or None."""
    return routing.unit_for(
        category=ticket.category,
        service_area=ticket.service_area,
        subtype_id=ticket.subtype_id,
        detail_id=ticket.detail_id,
    )


def _keep_unrouted(ticket: Ticket, *, actor: Actor, now: datetime) -> Ticket:
    """No rule and not even the fallback unit receives the order: it is still taken (a
    caller is never turned away for the centre's configuration) and waits, accepted and
    marked in `to_complete`, on the supervisors' wallboard until someone dispatches it."""
    ticket.to_complete = [*ticket.to_complete, routing.UNROUTED]
    _event(
        ticket,
        at=now,
        kind=TicketEvent.Kind.NOTE,
        actor=actor,
        note=_(
            "No routing rule and no fallback unit receives this order: it waits on the "
            "supervisors' wallboard for a unit."
        ),
        data={"unrouted": True},
    )
    ticket.save(update_fields=["to_complete", "updated_at"])
    return ticket


def _outage_to_link(
    ticket: Ticket, *, outage: Outage | None, look_up: bool, now: datetime
) -> Outage | None:
    """The outage a new order is linked to: the one named (refused once it is over), or,
    with `look_up`, the active one covering the caller; its row is held until the commit
    (`outage_lock_active`), so the outage cannot end under a call being linked to it."""
    if outage is not None:
        if not outage_services.outage_lock_active(outage):
            message = _("This outage is already over; take the call as a new repair.")
            raise DomainError(message, field_errors={"outage": [message]})
        return outage
    if not look_up:
        return None
    found = _outage_covering(ticket, now=now)
    if found is None or not outage_services.outage_lock_active(found):
        return None
    return found


def _outage_covering(ticket: Ticket, *, now: datetime) -> Outage | None:
    """The active outage reaching the order's service area, feeder or transformer area."""
    return outage_selectors.outage_active_covering(
        service_area_id=ticket.service_area_id,
        feeder=ticket.feeder,
        transformer_area=ticket.transformer_area,
        now=now,
    )


# --- Life-cycle actions --------------------------------------------------------------------


def _lock(ticket: Ticket) -> Ticket:
    """Re-read the order under a row lock so two clicks cannot both move it."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _lock_allowed(ticket: Ticket, *, action: str) -> tuple[Ticket, str]:
    """Lock the order and return it with the state `action` leads to; refuse a move the
    life-cycle table does not allow (nothing has changed yet)."""
    locked = _lock(ticket)
    allowed = target_of(action=action, category=locked.category, status=locked.status)
    if allowed is None:
        raise NotAllowed(
            _("“%(action)s” is not allowed for a %(category)s order that is %(status)s.")
            % {
                "action": Action(action).label,
                "category": locked.get_category_display(),
                "status": locked.get_status_display(),
            }
        )
    return locked, allowed


def _record_move(
    locked: Ticket,
    *,
    action: str,
    target: str,
    actor: Actor,
    now: datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> tuple[Ticket, str]:
    source = locked.status
    locked.status = target
    _event(
        locked,
        at=now,
        kind=TicketEvent.Kind.STATUS,
        actor=actor,
        action=action,
        from_status=source,
        to_status=target,
        note=note,
        data=data,
    )
    return locked, source


def _move(
    ticket: Ticket,
    *,
    action: str,
    actor: Actor,
    now: datetime,
    note: str = "",
    target: str | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[Ticket, str]:
    locked, allowed = _lock_allowed(ticket, action=action)
    return _record_move(
        locked, action=action, target=target or allowed, actor=actor, now=now, note=note, data=data
    )


def _save(ticket: Ticket, fields: list[str]) -> None:
    ticket.save(update_fields=[*fields, "status", "deadlines", "updated_at"])


@transaction.atomic
def ticket_dispatch(
    *,
    ticket: Ticket,
    actor: Actor,
    unit: HandlingUnit | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Send the order to its handling unit (routed when `unit` is not given)."""
    now = _now(now)
    # One lock and one check: a refused move is refused before any routing is looked up.
    locked, allowed = _lock_allowed(ticket, action=Action.DISPATCH)
    target_unit = unit or locked.handling_unit or _routed_unit(locked)
    if target_unit is None:
        message = _("No routing rule and no fallback unit receives this order; choose one.")
        raise DomainError(message, field_errors={"handling_unit": [message]})
    locked, _source = _record_move(
        locked,
        action=Action.DISPATCH,
        target=allowed,
        actor=actor,
        now=now,
        note=note,
        data={"unit": target_unit.pk, "unit_name": target_unit.name},
    )
    locked.handling_unit = target_unit
    locked.dispatched_at = now
    fields = ["handling_unit", "dispatched_at"]
    if routing.UNROUTED in locked.to_complete:
        # Routed at last: off the wallboard's unrouted list.
        locked.to_complete = [item for item in locked.to_complete if item != routing.UNROUTED]
        fields.append("to_complete")
    _sla(locked, event="dispatched", at=now)
    _save(locked, fields)
    return locked


@transaction.atomic
def ticket_acknowledge(
    *, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Ticket:
    """The handling unit accepts the order (接单); the acting member becomes its handler."""
    now = _now(now)
    locked, _source = _move(ticket, action=Action.ACKNOWLEDGE, actor=actor, now=now, note=note)
    locked.acknowledged_at = now
    locked.handler_id = actor.user_id or locked.handler_id
    _sla(locked, event="acknowledged", at=now)
    _save(locked, ["acknowledged_at", "handler"])
    return locked


@transaction.atomic
def ticket_record_arrival(
    *, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Ticket:
    """The crew is on site (stops the arrival clock)."""
    now = _now(now)
    locked, source = _move(ticket, action=Action.ARRIVE, actor=actor, now=now, note=note)
    locked.arrived_at = now
    fields = ["arrived_at"]
    if source == Status.DISPATCHED:
        locked.acknowledged_at = now
        locked.handler_id = actor.user_id or locked.handler_id
        fields += ["acknowledged_at", "handler"]
        _sla(locked, event="acknowledged", at=now)
    _sla(locked, event="arrived", at=now)
    _save(locked, fields)
    return locked


def _result_recorded(locked: Ticket, *, fields: list[str], now: datetime) -> list[str]:
    """After the unit's result: handed back for the centre's check (回单), or — for what the
    agent closes itself — resolved at once. Returns the fields to save."""
    if locked.status == Status.HANDED_BACK:
        locked.handed_back_at = now
        _sla(locked, event="handed_back", at=now)
        return [*fields, "handed_back_at"]
    locked.resolved_at = now
    _sla(locked, event="resolved", at=now)
    return [*fields, "resolved_at"]


def _record_result(
    ticket: Ticket,
    *,
    action: str,
    actor: Actor,
    now: datetime,
    cause: str = "",
    work_done: str = "",
    reply: str = "",
    reply_form: str = "",
    power_restored: bool = True,
    power_on_at: datetime | None = None,
    restored_at: datetime | None = None,
    asset_owner: str = "",
    is_paid: bool | None = None,
    paid_override_reason: str = "",
    note: str = "",
) -> Ticket:
    """The one way a result is recorded, whether it is called resolve, reply or hand back.
    What was typed is checked before anything is written."""
    result = _repair_result_clean(
        ticket,
        restored_at=restored_at,
        asset_owner=asset_owner,
        is_paid=is_paid,
        paid_override_reason=paid_override_reason,
        now=now,
    )
    if reply_form:
        if reply_form not in ReplyForm.values:
            message = _("Choose how the reply was given.")
            raise DomainError(message, field_errors={"reply_form": [message]})
        result["reply_form"] = reply_form
    locked, _source = _move(ticket, action=action, actor=actor, now=now, note=note)
    fields: list[str] = list(result)
    for name, value in result.items():
        setattr(locked, name, value)
    if cause:
        locked.cause = cause
        fields.append("cause")
    if work_done:
        locked.work_done = work_done
        fields.append("work_done")
    if reply:
        locked.reply, locked.replied_at = reply, now
        fields += ["reply", "replied_at"]
    # A result returned by the check and handed back again keeps the first restoration.
    if (
        locked.category == Category.REPAIR
        and power_restored
        and not locked.inside_customer_installation
        and locked.restored_at is None
    ):
        locked.restored_at = now
        fields.append("restored_at")
    if power_on_at is not None:
        locked.power_on_at = power_on_at
        fields.append("power_on_at")
    if locked.restored_at:
        _sla(locked, event="restored", at=min(locked.restored_at, now))
    if reply:
        _sla(locked, event="replied", at=now)
    _save(locked, _result_recorded(locked, fields=fields, now=now))
    return locked


def _reply_required(ticket: Ticket, reply: str) -> None:
    if not (reply or "").strip():
        raise DomainError(_("Write the reply."), field_errors={"reply": [_("Write the reply.")]})


@transaction.atomic
def ticket_resolve(
    *,
    ticket: Ticket,
    actor: Actor,
    cause: str = "",
    work_done: str = "",
    reply: str = "",
    power_restored: bool = True,
    power_on_at: datetime | None = None,
    restored_at: datetime | None = None,
    asset_owner: str = "",
    is_paid: bool | None = None,
    paid_override_reason: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Record the result: for a repair the cause, the work done and the restoration.

    A crew's repair and a finished application go to the centre's check (handed_back,
    回单); an inquiry answered on the call and a fault guided by phone are resolved at once.
    A repair's crew may also give the time power came back (`restored_at`, UTC, not later
    than now; by default now when `power_restored`), the asset owner (设备产权) and whether
    the work is paid: paid follows from a customer-owned asset, and charging otherwise needs
    `paid_override_reason` (`_repair_result_clean`).
    """
    return _record_result(
        ticket,
        action=Action.RESOLVE,
        actor=actor,
        now=_now(now),
        cause=cause,
        work_done=work_done,
        reply=reply,
        power_restored=power_restored,
        power_on_at=power_on_at,
        restored_at=restored_at,
        asset_owner=asset_owner,
        is_paid=is_paid,
        paid_override_reason=paid_override_reason,
        note=note,
    )


def _repair_result_clean(
    ticket: Ticket,
    *,
    restored_at: datetime | None,
    asset_owner: str,
    is_paid: bool | None,
    paid_override_reason: str,
    now: datetime,
) -> dict[str, Any]:
    """The crew's result fields of a repair, checked before anything is written: the
    columns to set ({} when none of them was given). Other categories ignore them."""
    if ticket.category != Category.REPAIR or (
        restored_at is None and not asset_owner and is_paid is None
    ):
        return {}
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    if restored_at is not None:
        # A phone gives the time to the minute: the call's own minute means the call's time.
        call_minute = ticket.call_at.replace(second=0, microsecond=0)
        if restored_at > now:
            errors["restored_at"] = [_("Power cannot have come back later than now.")]
        elif restored_at < call_minute:
            errors["restored_at"] = [_("Power cannot have come back before the call.")]
        result["restored_at"] = max(restored_at, ticket.call_at)
    owner = asset_owner or ticket.asset_owner
    if asset_owner and asset_owner not in AssetOwner.values:
        errors["asset_owner"] = [_("Choose who owns the faulty equipment.")]
    elif owner:
        result["asset_owner"] = owner
        # Work on utility-owned facilities is free; beyond the property boundary it is the
        # customer's own and paid. Charging otherwise is an exception on record.
        follows = owner == AssetOwner.CUSTOMER
        paid = follows if is_paid is None else is_paid
        reason = (paid_override_reason or "").strip()
        if paid != follows and not reason:
            errors["paid_override_reason"] = [
                _("Give the reason for charging otherwise than the asset owner implies.")
            ]
        result["is_paid"] = paid
        result["paid_override_reason"] = reason[:200] if paid != follows else ""
    elif is_paid is not None:
        errors["asset_owner"] = [_("Choose who owns the faulty equipment.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise DomainError(first, field_errors=errors)
    return result


@transaction.atomic
def ticket_reply(
    *,
    ticket: Ticket,
    actor: Actor,
    reply: str,
    reply_form: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Record the written reply: a complaint's or a report's goes to the centre's check
    (handed_back, 回单); a callback inquiry's resolves it. `reply_form`: how it was given to
    the customer (callback, SMS …; blank keeps the order's)."""
    _reply_required(ticket, reply)
    return _record_result(
        ticket,
        action=Action.REPLY,
        actor=actor,
        now=_now(now),
        reply=reply.strip(),
        reply_form=reply_form,
        note=note,
    )


@transaction.atomic
def ticket_handback(
    *,
    ticket: Ticket,
    actor: Actor,
    cause: str = "",
    work_done: str = "",
    reply: str = "",
    reply_form: str = "",
    power_restored: bool = True,
    power_on_at: datetime | None = None,
    restored_at: datetime | None = None,
    asset_owner: str = "",
    is_paid: bool | None = None,
    paid_override_reason: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """回单: the unit hands its result back for the centre's check — the same move as
    resolve (a repair on site, an application) or reply (a complaint, a report), under the
    name the crew pages and the API use. A complaint or report needs its reply, unless an
    earlier hand-back that the check returned already wrote one."""
    if ticket.category in (Category.COMPLAINT, Category.REPORT) and not ticket.reply:
        _reply_required(ticket, reply)
    return _record_result(
        ticket,
        action=Action.HANDBACK,
        actor=actor,
        now=_now(now),
        cause=cause,
        work_done=work_done,
        reply=(reply or "").strip(),
        reply_form=reply_form,
        power_restored=power_restored,
        power_on_at=power_on_at,
        restored_at=restored_at,
        asset_owner=asset_owner,
        is_paid=is_paid,
        paid_override_reason=paid_override_reason,
        note=note,
    )


def _reason_required(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(message, field_errors={"reason": [message]})
    return reason


@transaction.atomic
def ticket_check_accept(
    *, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Ticket:
    """回单审核: the owning agent (首问负责) or a supervisor accepts the handed-back result;
    the order is resolved now (and waits for its return visit)."""
    now = _now(now)
    locked, _source = _move(
        ticket, action=Action.ACCEPT_CHECK, actor=actor, now=now, note=note.strip()
    )
    locked.resolved_at = now
    _sla(locked, event="checked", at=now)
    _sla(locked, event="resolved", at=now)
    _save(locked, ["resolved_at"])
    return locked


@transaction.atomic
def ticket_check_return(
    *, ticket: Ticket, actor: Actor, reason: str, now: datetime | None = None
) -> Ticket:
    """退单: the check sends the result back to the unit, with the reason. The order goes
    back to where the unit handed it from (a crew on site; a department's order
    acknowledged, or dispatched if it replied without acknowledging) and the return counts
    against the unit (`return_count`, and the timeline event names the unit)."""
    reason = _reason_required(reason, _("Give the reason for returning the order."))
    now = _now(now)
    locked, target = _lock_allowed(ticket, action=Action.RETURN_CHECK)
    if target == Status.ACKNOWLEDGED and locked.acknowledged_at is None:
        target = Status.DISPATCHED
    unit = locked.handling_unit
    locked.return_count += 1
    locked, _source = _record_move(
        locked,
        action=Action.RETURN_CHECK,
        target=target,
        actor=actor,
        now=now,
        note=reason,
        data={
            "unit": locked.handling_unit_id,
            "unit_name": unit.name if unit else "",
            "returns": locked.return_count,
        },
    )
    _save(locked, ["return_count"])
    return locked


@transaction.atomic
def ticket_terminate(
    *, ticket: Ticket, actor: Actor, reason: str, now: datetime | None = None
) -> Ticket:
    """服务终止: the claim is outside the utility's scope (e.g. a fault in equipment the
    utility does not own or serve). The order closes as terminated with the reason, never as
    resolved; every clock stops."""
    reason = _reason_required(reason, _("Give the reason for terminating the service."))
    now = _now(now)
    locked, _source = _move(ticket, action=Action.TERMINATE, actor=actor, now=now, note=reason)
    locked.termination_reason, locked.closed_at = reason[:200], now
    _sla(locked, event="closed", at=now)
    _save(locked, ["termination_reason", "closed_at"])
    return locked


@transaction.atomic
def ticket_redispatch(
    *,
    ticket: Ticket,
    actor: Actor,
    unit: HandlingUnit | None,
    reason: str,
    now: datetime | None = None,
) -> Ticket:
    """转派: a supervisor or the receiving unit hands the order to another active unit, with
    the reason, on the timeline. The new unit acknowledges it afresh; the clocks run on as
    they were (the dispatch clock does not restart, `dispatched_at` keeps the first dispatch,
    the arrival deadline stays), only their unit follows."""
    errors: dict[str, list[str]] = {}
    if unit is None or not unit.is_active:
        errors["handling_unit"] = [_("Choose an active handling unit.")]
    elif unit.pk == ticket.handling_unit_id:
        errors["handling_unit"] = [_("The order is already with this unit; choose another.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for re-dispatching.")]
    if errors:
        raise DomainError(next(iter(errors.values()))[0], field_errors=errors)
    assert unit is not None
    now = _now(now)
    locked, allowed = _lock_allowed(ticket, action=Action.REDISPATCH)
    previous = locked.handling_unit
    locked, _source = _record_move(
        locked,
        action=Action.REDISPATCH,
        target=allowed,
        actor=actor,
        now=now,
        note=reason.strip(),
        data={
            "from_unit": locked.handling_unit_id,
            "from_unit_name": previous.name if previous else "",
            "unit": unit.pk,
            "unit_name": unit.name,
        },
    )
    locked.handling_unit, locked.handler, locked.acknowledged_at = unit, None, None
    sla_timers.timers_follow_unit(ticket=locked)
    _save(locked, ["handling_unit", "handler", "acknowledged_at"])
    return locked


@transaction.atomic
def ticket_record_contact(
    *, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Ticket:
    """The unit reached the customer (a milestone; the state stays). The first contact is
    kept in `contacted_at`; each one goes on the timeline and tells the SLA engine
    (`contacted` stops the contact clock where an administrator has switched one on)."""
    now = _now(now)
    locked, allowed = _lock_allowed(ticket, action=Action.CONTACT)
    first = locked.contacted_at is None
    _event(
        locked,
        at=now,
        kind=TicketEvent.Kind.MILESTONE,
        actor=actor,
        action=Action.CONTACT,
        from_status=locked.status,
        to_status=allowed,
        note=note.strip(),
        data={"first": first},
    )
    if first:
        locked.contacted_at = now
    _sla(locked, event="contacted", at=now)
    _save(locked, ["contacted_at"])
    return locked


@transaction.atomic
def ticket_visit(
    *,
    ticket: Ticket,
    actor: Actor,
    satisfaction: str = "",
    reason: str = "",
    unreachable: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Record the return visit (回访). A dissatisfied customer reopens the order: it goes
    back to `dispatched` with its unit and counts against the handler (`reopen_count`).

    `reason` is the dissatisfaction reason code (`visits.VisitReason`, checked by
    `visits.services`), kept on the timeline. `unreachable`: the customer could not be
    reached after the last attempt; the visit is closed with no satisfaction, so the order
    is left out of the satisfaction rate (the visits app counts it as unreachable).
    Both stop the visit clock (`visited`); a reopening then starts what `reopened` starts.
    """
    if unreachable:
        satisfaction = ""
    elif satisfaction not in Satisfaction:
        message = _("Choose the customer's satisfaction.")
        raise DomainError(message, field_errors={"satisfaction": [message]})
    now = _now(now)
    dissatisfied = satisfaction == Satisfaction.DISSATISFIED
    data: dict[str, Any] = {"satisfaction": satisfaction}
    if reason:
        data["reason"] = reason
    if unreachable:
        data["unreachable"] = True
    locked, _source = _move(
        ticket,
        action=Action.VISIT,
        actor=actor,
        now=now,
        note=note,
        target=Status.DISPATCHED if dissatisfied else None,
        data=data,
    )
    locked.satisfaction, locked.visit_note, locked.visited_at = satisfaction, note, now
    fields = ["satisfaction", "visit_note", "visited_at"]
    if dissatisfied:
        locked.reopen_count += 1
        locked.dispatched_at, locked.acknowledged_at, locked.resolved_at = now, None, None
        fields += ["reopen_count", "dispatched_at", "acknowledged_at", "resolved_at"]
    # The visit is done whatever its verdict: the visit clock stops, then a reopening starts
    # the clocks that run from it (none by default).
    _sla(locked, event="visited", at=now)
    if dissatisfied:
        _sla(locked, event="reopened", at=now)
    _save(locked, fields)
    return locked


def tickets_visit_for_outage(
    *,
    outage: Outage,
    actor: Actor,
    satisfaction: str = "",
    reason: str = "",
    unreachable: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> int:
    """The outage's one return visit, recorded on every order resolved with it; returns how
    many orders it moved to `visited`.

    Set-based like `tickets_resolve_for_outage`: one locking read, one UPDATE, one bulk
    insert of a timeline line each. These orders run no clocks (they were merged) and are
    not reopened by a dissatisfied verdict: the outage is over; the dissatisfaction is
    counted once, on the outage's visit (`visits.Visit`).
    """
    if not unreachable and satisfaction not in Satisfaction:
        message = _("Choose the customer's satisfaction.")
        raise DomainError(message, field_errors={"satisfaction": [message]})
    satisfaction = "" if unreachable else satisfaction
    now = _now(now)
    with transaction.atomic():
        linked = Ticket.objects.filter(outage=outage, status=Status.RESOLVED)
        ids = list(linked.select_for_update().order_by("pk").values_list("pk", flat=True))
        if not ids:
            return 0
        Ticket.objects.filter(pk__in=ids).update(
            status=Status.VISITED,
            satisfaction=satisfaction,
            visit_note=note,
            visited_at=now,
            updated_at=now,
        )
        data: dict[str, Any] = {"outage": outage.number, "satisfaction": satisfaction}
        if reason:
            data["reason"] = reason
        if unreachable:
            data["unreachable"] = True
        TicketEvent.objects.bulk_create(
            (
                TicketEvent(
                    ticket_id=pk,
                    at=now,
                    kind=TicketEvent.Kind.STATUS,
                    actor_id=actor.user_id,
                    actor_label=actor.label,
                    action=Action.VISIT,
                    from_status=Status.RESOLVED,
                    to_status=Status.VISITED,
                    note=note,
                    data=data,
                )
                for pk in ids
            ),
            batch_size=1000,
        )
    return len(ids)


@transaction.atomic
def ticket_archive(
    *, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None
) -> Ticket:
    now = _now(now)
    locked, _source = _move(ticket, action=Action.ARCHIVE, actor=actor, now=now, note=note)
    locked.archived_at = now
    _save(locked, ["archived_at"])
    return locked


@transaction.atomic
def ticket_cancel(
    *, ticket: Ticket, actor: Actor, reason: str, now: datetime | None = None
) -> Ticket:
    """Cancel an open order; a reason is required and stays on the timeline."""
    if not (reason or "").strip():
        message = _("Give the reason for cancelling.")
        raise DomainError(message, field_errors={"reason": [message]})
    now = _now(now)
    locked, _source = _move(ticket, action=Action.CANCEL, actor=actor, now=now, note=reason.strip())
    locked.cancel_reason, locked.closed_at = reason.strip()[:200], now
    _sla(locked, event="closed", at=now)
    _save(locked, ["cancel_reason", "closed_at"])
    return locked


@transaction.atomic
def ticket_merge(
    *,
    ticket: Ticket,
    actor: Actor,
    master: Ticket | None = None,
    outage: Outage | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Ticket:
    """Link the order to a known outage or attach it as a child of a master order.

    The merged order stops its own timers; a child follows its master's state and is left
    out of duration statistics.
    """
    if (master is None) == (outage is None):
        raise DomainError(_("Link the order either to an outage or to a master order."))
    if master is not None and (master.pk == ticket.pk or master.master_id is not None):
        message = _("Choose an order that is not itself merged into another.")
        raise DomainError(message, field_errors={"master": [message]})
    if outage is not None and not outage_services.outage_lock_active(outage):
        message = _("This outage is already over; take the call as a new repair.")
        raise DomainError(message, field_errors={"outage": [message]})
    now = _now(now)
    data = {"master": master.number} if master else {"outage": outage.number}
    locked, _source = _move(ticket, action=Action.MERGE, actor=actor, now=now, note=note, data=data)
    locked.master, locked.outage, locked.closed_at = master, outage, now
    _sla(locked, event="closed", at=now)
    _save(locked, ["master", "outage", "closed_at"])
    if locked.call_id and outage is not None:
        Call.objects.filter(pk=locked.call_id).update(disposition=Disposition.OUTAGE_INFO)
    return locked


# --- Repeat calls --------------------------------------------------------------------------


@transaction.atomic
def ticket_hasten(
    *,
    ticket: Ticket,
    actor: Actor,
    text: str = "",
    channel: str = Channel.PHONE,
    caller_phone: str = "",
    call_id: str = "",
    now: datetime | None = None,
) -> Hastening:
    """Log a repeat call on an open order as a hastening (催办), not as a new order.

    Counts the call on the order (致电次数) and marks it supervised (督办) once it has been
    hastened HASTENINGS_TO_SUPERVISE times.
    """
    now = _now(now)
    locked = _lock(ticket)
    if not locked.is_open:
        raise NotAllowed(
            _("Only an open order can be hastened; this one is %(status)s.")
            % {"status": locked.get_status_display()}
        )
    if channel not in Channel:
        raise DomainError(_("Unknown channel."), field_errors={"channel": [_("Unknown channel.")]})
    call = None
    if call_id:
        call, _created = Call.objects.get_or_create(
            call_id=call_id, defaults={"caller_phone": caller_phone}
        )
        Call.objects.filter(pk=call.pk).update(disposition=Disposition.HASTENING)
    hastening = Hastening.objects.create(
        ticket=locked,
        at=now,
        channel=channel,
        text=text.strip(),
        caller_phone=caller_phone,
        call=call,
        created_by_id=actor.user_id,
    )
    Ticket.objects.filter(pk=locked.pk).update(call_count=F("call_count") + 1, updated_at=now)
    locked.refresh_from_db(fields=["call_count"])
    _event(
        locked,
        at=now,
        kind=TicketEvent.Kind.HASTENING,
        actor=actor,
        note=text.strip(),
        data={"channel": channel, "calls": locked.call_count},
    )
    sla_notifications.notification_send_for_hastening(ticket=locked, now=now)
    if locked.hastenings.count() >= HASTENINGS_TO_SUPERVISE:
        ticket_mark_supervised(ticket=locked, actor=actor, reason=_("Hastened repeatedly"), now=now)
    return hastening


def ticket_mark_supervised(
    *, ticket: Ticket, actor: Actor, reason: str, now: datetime | None = None
) -> bool:
    """Mark the order supervised (督办) once; returns True when this call marked it."""
    return bool(tickets_mark_supervised(reasons={ticket.pk: reason}, actor=actor, now=now))


def tickets_mark_supervised(
    *, reasons: dict[int, str], actor: Actor, now: datetime | None = None, breached: bool = False
) -> list[int]:
    """Mark many orders supervised at once (a breach storm), each once, with its reason on
    the timeline. Returns the ids this call marked.

    With `breached` (the SLA engine's follow-up of recorded breaches) the orders are also
    flagged breached in the same UPDATE: an order's row, with its many index entries, is
    written once for both.

    Set-based: one locking read, one UPDATE, one bulk INSERT of timeline events. The row
    locks make a concurrent caller wait and then find the orders already marked.
    """
    if not reasons:
        return []
    now = _now(now)
    pending = (Q(supervised=False) | Q(breached=False)) if breached else Q(supervised=False)
    with transaction.atomic():
        locked = list(
            Ticket.objects.select_for_update()
            .filter(pending, pk__in=list(reasons))
            .order_by("pk")
            .values_list("pk", "supervised")
        )
        marked = [pk for pk, supervised in locked if not supervised]
        if locked:
            changes: dict[str, Any] = {
                "supervised": True,
                "supervised_at": Case(
                    When(supervised=False, then=Value(now)), default=F("supervised_at")
                ),
            }
            if breached:
                changes["breached"] = True
            # `.update()` skips auto_now: the API's lists read updated_at.
            changes["updated_at"] = now
            Ticket.objects.filter(pk__in=[pk for pk, _supervised in locked]).update(**changes)
            TicketEvent.objects.bulk_create(
                TicketEvent(
                    ticket_id=pk,
                    at=now,
                    kind=TicketEvent.Kind.SUPERVISED,
                    actor_id=actor.user_id,
                    actor_label=actor.label,
                    note=reasons[pk],
                )
                for pk in marked
            )
    return marked


# --- Calls --------------------------------------------------------------------------------


def call_event_handle(
    *, call_id: str, event: str, at: datetime, caller_phone: str = "", agent_username: str = ""
) -> call_services.CallEventResult:
    """A switch event, and what it means for the orders taken on that call.

    The dispatch clock of an order taken during a call starts when the call ends, so the
    first `hangup` tells the SLA engine about every order linked to the call.
    """
    with transaction.atomic():
        result = call_services.call_event_record(
            call_id=call_id,
            event=event,
            at=at,
            caller_phone=caller_phone,
            agent_username=agent_username,
        )
        if event == "hangup" and result.changed:
            for ticket in Ticket.objects.filter(call=result.call):
                _sla(ticket, event="call_ended", at=at)
                ticket.save(update_fields=["deadlines", "updated_at"])
    return result


# --- Outages -------------------------------------------------------------------------------


@transaction.atomic
def ticket_create_for_outage(
    *,
    outage: Outage,
    draft: TicketDraft,
    actor: Actor,
    note: str = "",
    require_details: bool = False,
    now: datetime | None = None,
) -> Ticket:
    """Take a repair call about a known outage and link it to the outage in one step.

    One outage can bring thousands of calls: each is recorded (the caller, the time, the
    call) but no other crew is sent. If either step is refused, nothing is stored.
    """
    if outage.restored_at is not None:
        message = _("This outage is already over; take the call as a new repair.")
        raise DomainError(message, field_errors={"outage": [message]})
    now = _now(now)
    draft = dataclasses.replace(draft, category=Category.REPAIR)
    return ticket_create(
        draft=draft,
        actor=actor,
        require_details=require_details,
        outage=outage,
        link_note=note,
        now=now,
    )


@dataclasses.dataclass(frozen=True)
class OutageEnded:
    outage: Outage
    resolved: int


def tickets_resolve_for_outage(
    *,
    outage: Outage,
    actor: Actor,
    restored_at: datetime | None = None,
    note: str = "",
    now: datetime | None = None,
) -> OutageEnded:
    """End the outage (`outages.services.outage_end`: power back at `restored_at`, default
    now; its one return visit queued) and resolve every order linked to it, in one
    transaction: what the outage page's "power restored" does.

    Set-based whatever the storm: one locking read of the linked orders, one UPDATE that
    resolves them all with the restoration time, one bulk insert of a timeline line each.
    The orders were merged, so their clocks stopped then; none starts again, and none is
    queued for a return visit of its own (the outage has one).
    """
    now = _now(now)
    with transaction.atomic():
        ended = outage_services.outage_end(
            outage=outage, actor=actor, restored_at=restored_at, note=note, now=now
        )
        linked = Ticket.objects.filter(outage=ended, status__in=OUTAGE_ENDED_SOURCES)
        ids = list(linked.select_for_update().order_by("pk").values_list("pk", flat=True))
        if not ids:
            return OutageEnded(outage=ended, resolved=0)
        with translation.override(settings.LANGUAGE_CODE):
            work_done = _("Power restored: outage %(number)s is over.") % {"number": ended.number}
        # The outage's row is held FOR UPDATE, so no call can be linked to it any more: the
        # condition matches exactly the rows just locked.
        linked.update(
            status=OUTAGE_ENDED_TARGET,
            resolved_at=now,
            restored_at=ended.restored_at,
            work_done=Case(
                When(work_done="", then=Value(work_done)),
                default=F("work_done"),
                output_field=TextField(),
            ),
            cause=Case(
                When(cause="", then=Value(ended.cause)),
                default=F("cause"),
                output_field=TextField(),
            ),
            # `.update()` skips auto_now: the API's lists and the report refresh read it.
            updated_at=now,
        )
        data = {"outage": ended.number, "restored_at": ended.restored_at.isoformat()}
        TicketEvent.objects.bulk_create(
            (
                TicketEvent(
                    ticket_id=pk,
                    at=now,
                    kind=TicketEvent.Kind.STATUS,
                    actor_id=actor.user_id,
                    actor_label=actor.label,
                    action=Action.RESOLVE,
                    from_status=Status.MERGED,
                    to_status=OUTAGE_ENDED_TARGET,
                    note=work_done,
                    data=data,
                )
                for pk in ids
            ),
            batch_size=1000,
        )
    return OutageEnded(outage=ended, resolved=len(ids))


# --- Clocks: pauses, appointments -------------------------------------------------------------


@transaction.atomic
def ticket_timer_pause(
    *, timer: Timer, reason: str, actor: Actor, now: datetime | None = None
) -> Timer:
    """Stop a day-based clock while the work waits on the customer; on the timeline."""
    now = _now(now)
    paused = sla_timers.timer_pause(timer=timer, reason=reason, now=now)
    _event(
        paused.ticket,
        at=now,
        kind=TicketEvent.Kind.TIMER,
        actor=actor,
        action="pause",
        note=paused.pause_reason,
        data={"timer": paused.name, "due_at": paused.due_at.isoformat()},
    )
    return paused


@transaction.atomic
def ticket_timer_resume(
    *, timer: Timer, actor: Actor, note: str = "", now: datetime | None = None
) -> Timer:
    """Restart a paused clock (its due time moves by the time paused); on the timeline."""
    now = _now(now)
    resumed, paused_for = sla_timers.timer_resume(timer=timer, now=now)
    _deadlines_refresh(resumed.ticket)
    _event(
        resumed.ticket,
        at=now,
        kind=TicketEvent.Kind.TIMER,
        actor=actor,
        action="resume",
        note=note.strip(),
        data={
            "timer": resumed.name,
            "paused_seconds": int(paused_for.total_seconds()),
            "due_at": resumed.due_at.isoformat(),
        },
    )
    return resumed


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

    The arrival clock then runs from the appointment (`sla.services.timers.arrival_move_to`).
    Set before dispatch, the arrival clock starts at the appointment when the order is
    dispatched. A clock already breached is not moved (the breach happened); the
    appointment is still kept.
    """
    now = _now(now)
    locked = _lock(ticket)
    if (
        locked.category != Category.REPAIR
        or not locked.is_open
        or locked.status in (Status.ON_SITE, Status.HANDED_BACK)
    ):
        raise DomainError(_("Only a repair whose crew is not yet on site takes an appointment."))
    if appointment_at <= now:
        message = _("The appointment must be later than now.")
        raise DomainError(message, field_errors={"appointment_at": [message]})
    locked.appointment_at = appointment_at
    data: dict[str, Any] = {"appointment_at": appointment_at.isoformat()}
    moved = sla_timers.arrival_move_to(ticket=locked, appointment_at=appointment_at, now=now)
    locked.deadlines = deadlines_text(list(sla_selectors.running_timers(locked)))
    locked.save(update_fields=["appointment_at", "deadlines", "updated_at"])
    if moved is not None:
        timer, shift = moved
        data |= {
            "timer": timer.name,
            "due_at": timer.due_at.isoformat(),
            "moved_seconds": int(shift.total_seconds()),
        }
    _event(
        locked,
        at=now,
        kind=TicketEvent.Kind.TIMER,
        actor=actor,
        action="appointment",
        note=note.strip(),
        data=data,
    )
    return locked


# --- Breaches on the order ------------------------------------------------------------------


def _breaches_follow_up(breaches: Sequence[Breach], *, now: datetime) -> None:
    """What recorded breaches do to their orders: a timeline line each (at the moment of the
    breach), and the order flagged breached and marked supervised (督办) with its first.
    Set-based: a storm's thousands of breaches are a few statements."""
    if not breaches:
        return
    with translation.override(settings.LANGUAGE_CODE):
        labels = dict(TimerName.choices)
        notes = {
            b.pk: _("%(timer)s time limit breached") % {"timer": labels[b.name]} for b in breaches
        }
    TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=b.ticket_id,
            at=b.occurred_at,
            kind=TicketEvent.Kind.BREACH,
            actor_label=SLA.label,
            action="breach",
            note=notes[b.pk],
            data={"timer": b.name, "breach": b.pk},
        )
        for b in breaches
    )
    first_breach_of: dict[int, Breach] = {}
    for breach in breaches:
        first_breach_of.setdefault(breach.ticket_id, breach)
    reasons = {ticket_id: notes[breach.pk] for ticket_id, breach in first_breach_of.items()}
    tickets_mark_supervised(reasons=reasons, actor=SLA, now=now, breached=True)
    sla_breaches.breaches_mark_followed_up(breach_ids=[b.pk for b in breaches], now=now)


def tickets_breach_followup(*, now: datetime, limit: int) -> int:
    """Follow up on their orders up to `limit` breaches the scanner recorded (oldest first);
    returns how many. Workers share a backlog: a breach another worker holds is skipped,
    none is followed up twice, and one left over waits for the next pass."""
    with transaction.atomic():
        batch = sla_breaches.breaches_claim_for_followup(limit=limit)
        _breaches_follow_up(batch, now=now)
    return len(batch)


@transaction.atomic
def ticket_breach_acknowledge(
    *, breach: Breach, user: AbstractBaseUser, comment: str, now: datetime | None = None
) -> Breach:
    """A supervisor acknowledges a breach with a comment (the breach list); on the timeline."""
    now = _now(now)
    breach = sla_breaches.breach_acknowledge(breach=breach, user=user, comment=comment, now=now)
    _event(
        breach.ticket,
        at=now,
        kind=TicketEvent.Kind.BREACH,
        actor=Actor(user=user),
        action="acknowledge",
        note=breach.acknowledgement,
        data={"timer": breach.name, "breach": breach.pk},
    )
    return breach
