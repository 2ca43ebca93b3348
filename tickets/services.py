"""Every write to a work order goes through these functions.

The call-intake page, the crew pages and the REST API call the same function for the same
action. Each runs in one transaction, validates before saving, appends a timeline event,
tells the SLA engine which life-cycle event happened, and raises TicketError (or its
TransitionNotAllowed) for anything the rules refuse — in which case nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from calls import services as call_services
from calls.models import Call, Disposition
from customers.models import AreaType, Customer, HandlingUnit, ServiceArea
from customers.validators import normalize_phone, validate_resident_id
from outages.models import Outage
from servicedesk import sql
from sla import services as sla_services
from tickets import routing
from tickets.errors import TicketError, TransitionNotAllowed
from tickets.lifecycle import Action, target_of
from tickets.models import (
    Category,
    Channel,
    Hastening,
    ReplyForm,
    Satisfaction,
    Status,
    SubType,
    Ticket,
    TicketEvent,
)

BEIJING = ZoneInfo("Asia/Shanghai")
# Several hastenings mark an order supervised (督办); supervisors see those first.
HASTENINGS_TO_SUPERVISE: int = getattr(settings, "TICKETS_HASTENINGS_TO_SUPERVISE", 2)


@dataclass(frozen=True)
class Actor:
    """Who did it: a signed-in user, or an integration client / the system by name."""

    user: AbstractBaseUser | None = None
    label: str = ""

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


SYSTEM = Actor(label="system")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def ticket_number_for(*, pk: int, created_at: datetime) -> str:
    """Human-readable and sortable: Beijing date of acceptance + the row id, zero-padded.

    Derived from the primary key, so numbers are unique without a shared counter and
    without contention when many processes create orders at the same moment.
    """
    return f"{created_at.astimezone(BEIJING):%Y%m%d}{pk:010d}"


def _insert_numbered(ticket: Ticket, *, now: datetime) -> None:
    """Insert the order with its number in one write.

    On PostgreSQL the id is drawn from the table's sequence ahead (`sql.new_id`), so the row
    is written once, number included; updating it afterwards would write a second version
    of the row into every index of a table that grows by thousands of rows a day. SQLite has
    no sequence to draw from: insert, then set the number.
    """
    ticket.pk = sql.new_id(Ticket)
    if ticket.pk is not None:
        ticket.number = ticket_number_for(pk=ticket.pk, created_at=now)
    sql.insert(ticket)
    if ticket.number is None:  # SQLite: the id came from the insert
        ticket.number = ticket_number_for(pk=ticket.pk, created_at=now)
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)


def _event(ticket: Ticket, *, at: datetime, kind: str, actor: Actor, action: str = "",
           from_status: str = "", to_status: str = "", note: str = "",
           data: dict[str, Any] | None = None) -> TicketEvent:
    event = sql.new(
        TicketEvent, ticket=ticket, at=at, kind=kind, actor_id=actor.user_id, actor_label=actor.label,
        action=action, from_status=from_status, to_status=to_status, note=note, data=data or {},
    )
    sql.insert(event)
    return event


# --- Create ---------------------------------------------------------------------------------


def _clean_create(
    *, category: str, caller_phone: str, description: str, channel: str, subtype: SubType | None,
    detail: SubType | None, area_type: str, resident_id: str,
    contact_phone: str, reply_form: str, answer_on_call: bool, reply: str,
    inside_customer_installation: bool, party: str,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(str(message))

    if category not in Category:
        add("category", _("Choose one of the five service categories."))
    try:
        cleaned["caller_phone"] = normalize_phone(caller_phone)
    except ValidationError as exc:
        add("caller_phone", exc.messages[0])
    if not (description or "").strip():
        add("description", _("Describe what the caller reports."))
    if channel not in Channel:
        add("channel", _("Unknown channel."))
    if area_type and area_type not in AreaType:
        add("area_type", _("The area type must be urban, rural or remote."))
    if subtype is not None and subtype.category != category:
        add("subtype", _("This sub-type belongs to another category."))
    if detail is not None and (subtype is None or detail.parent_id != subtype.pk):
        add("detail", _("This detail does not belong to the chosen sub-type."))
    if resident_id:
        try:
            validate_resident_id(resident_id)
        except ValidationError as exc:
            add("resident_id", exc.messages[0])
    if contact_phone:
        try:
            cleaned["contact_phone"] = normalize_phone(contact_phone)
        except ValidationError as exc:
            add("contact_phone", exc.messages[0])
    if reply_form and reply_form not in ReplyForm:
        add("reply_form", _("Unknown reply form."))
    if category == Category.INQUIRY and answer_on_call and not (reply or "").strip():
        add("reply", _("Write down the answer given on the call."))
    if category in (Category.COMPLAINT, Category.REPORT) and not (party or "").strip():
        add("party", _("Name the party complained about or reported."))
    if category != Category.REPAIR and inside_customer_installation:
        add("inside_customer_installation", _("Only a repair can be a fault inside the customer's installation."))
    if errors:
        raise TicketError(_("Please correct the marked fields."), field_errors=errors)
    return cleaned


def ticket_create(
    *,
    category: str,
    caller_phone: str,
    description: str,
    actor: Actor,
    channel: str = Channel.PHONE,
    customer: Customer | None = None,
    subtype: SubType | None = None,
    detail: SubType | None = None,
    address: str = "",
    area_type: str = "",
    service_area: ServiceArea | None = None,
    call_id: str = "",
    call_at: datetime | None = None,
    reply_form: str = "",
    reply: str = "",
    answer_on_call: bool = False,
    knowledge_article: Any = None,
    resident_id: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    application_channel: str = "",
    feeder: str = "",
    transformer_area: str = "",
    inside_customer_installation: bool = False,
    asset_owner: str = "",
    paid_override_reason: str = "",
    party: str = "",
    dispatch: bool = False,
    handling_unit: HandlingUnit | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Take a new order. Times are the server's clock (UTC).

    - `answer_on_call`: an inquiry answered while the caller is on the line is resolved at once.
    - `inside_customer_installation`: a repair whose fault is the customer's own is guided by
      phone and resolved at once, without a crew (paid beyond the property boundary).
    - `dispatch`: send it on to its handling unit in the same transaction (the console's submit).
    - A repair whose area type is unknown is still taken: urban (the strictest limit) applies
      and the order is flagged for the agent to confirm.
    """
    now = _now(now)
    cleaned = _clean_create(
        category=category, caller_phone=caller_phone, description=description, channel=channel,
        subtype=subtype, detail=detail, area_type=area_type,
        resident_id=resident_id, contact_phone=contact_phone, reply_form=reply_form,
        answer_on_call=answer_on_call, reply=reply,
        inside_customer_installation=inside_customer_installation, party=party,
    )
    # Refusals come above, before the transaction opens. Below, no savepoint of its own: a
    # failure after the first write dooms the caller's transaction as well (the API's
    # Idempotency-Key, an outage's call), which every caller wants, and the API saves two
    # statements per order.
    with transaction.atomic(savepoint=False):
        if service_area is None and customer is not None:
            service_area = customer.service_area
        resolved_area_type = area_type or (service_area.area_type if service_area else "")
        call = None
        if call_id:
            call, _created = Call.objects.get_or_create(
                call_id=call_id, defaults={"caller_phone": cleaned["caller_phone"], "agent_id": actor.user_id}
            )
        if not asset_owner and category == Category.REPAIR:
            asset_owner = "customer" if inside_customer_installation else "utility"
        # Service on utility-owned facilities is free; work inside the customer's own
        # installation is paid. The agent may override with a reason.
        is_paid = asset_owner == "customer"
        if paid_override_reason:
            is_paid = not is_paid

        ticket = sql.new(
            Ticket,
            category=category,
            subtype=subtype,
            detail=detail,
            channel=channel,
            status=Status.ACCEPTED,
            caller_phone=cleaned["caller_phone"],
            call_at=call_at or (call.ring_at if call and call.ring_at else now),
            call=call,
            customer=customer,
            address=address or (customer.address if customer else ""),
            description=description.strip(),
            owner_id=actor.user_id,
            created_via=actor.label if actor.user is None else "",
            service_area=service_area,
            area_type=resolved_area_type or AreaType.URBAN,
            area_type_unconfirmed=not resolved_area_type,
            is_important=bool(customer and customer.is_important),
            reply_form=reply_form or (ReplyForm.ON_CALL if answer_on_call else ""),
            knowledge_article=knowledge_article,
            resident_id=resident_id.strip().upper(),
            contact_name=contact_name,
            contact_phone=cleaned.get("contact_phone", ""),
            application_channel=application_channel,
            feeder=feeder or (customer.feeder if customer else ""),
            transformer_area=transformer_area or (customer.transformer_area if customer else ""),
            inside_customer_installation=inside_customer_installation,
            asset_owner=asset_owner,
            is_paid=is_paid,
            paid_override_reason=paid_override_reason,
            party=party,
            created_at=now,
        )
        _insert_numbered(ticket, now=now)
        _event(ticket, at=now, kind=TicketEvent.Kind.CREATED, actor=actor, to_status=Status.ACCEPTED)
        if call is not None and not call.disposition:
            Call.objects.filter(pk=call.pk, disposition="").update(disposition=Disposition.ORDER)
        started = sla_services.sla_ticket_event(ticket=ticket, event="created", at=now)
        if call is not None and call.hangup_at is not None:
            sla_services.sla_ticket_event(ticket=ticket, event="call_ended", at=call.hangup_at)
        else:
            # The deadlines of the new order as taken, for the answer to whoever sent it (the
            # API), without asking the database again. Only as of this moment: anything that
            # reads deadlines later asks the database (sla.selectors.deadlines_for).
            ticket.timers_started = started

        if category == Category.INQUIRY and answer_on_call:
            return ticket_resolve(ticket=ticket, actor=actor, reply=reply, now=now)
        if category == Category.REPAIR and inside_customer_installation:
            return ticket_resolve(
                ticket=ticket, actor=actor, now=now,
                work_done=_("Fault inside the customer's installation: guided by phone, no crew sent."),
            )
        if dispatch:
            return ticket_dispatch(ticket=ticket, actor=actor, unit=handling_unit, now=now)
        return ticket


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
        raise TransitionNotAllowed(
            _("“%(action)s” is not allowed for a %(category)s order that is %(status)s.")
            % {
                "action": Action(action).label,
                "category": locked.get_category_display(),
                "status": locked.get_status_display(),
            }
        )
    return locked, allowed


def _record_move(locked: Ticket, *, action: str, target: str, actor: Actor, now: datetime,
                 note: str = "", data: dict[str, Any] | None = None) -> tuple[Ticket, str]:
    source = locked.status
    locked.status = target
    _event(locked, at=now, kind=TicketEvent.Kind.STATUS, actor=actor, action=action,
           from_status=source, to_status=target, note=note, data=data)
    return locked, source


def _move(ticket: Ticket, *, action: str, actor: Actor, now: datetime, note: str = "",
          target: str | None = None, data: dict[str, Any] | None = None) -> tuple[Ticket, str]:
    locked, allowed = _lock_allowed(ticket, action=action)
    return _record_move(locked, action=action, target=target or allowed, actor=actor, now=now,
                        note=note, data=data)


def _save(ticket: Ticket, fields: list[str]) -> None:
    ticket.save(update_fields=[*fields, "status", "updated_at"])


@transaction.atomic
def ticket_dispatch(*, ticket: Ticket, actor: Actor, unit: HandlingUnit | None = None,
                    note: str = "", now: datetime | None = None) -> Ticket:
    """Send the order to its handling unit (routed when `unit` is not given)."""
    now = _now(now)
    # One lock and one check: a refused move is refused before any routing is looked up.
    locked, allowed = _lock_allowed(ticket, action=Action.DISPATCH)
    target_unit = unit or locked.handling_unit or routing.unit_for(
        category=locked.category, service_area=locked.service_area
    )
    if target_unit is None:
        message = _("No handling unit receives this order; choose one.")
        raise TicketError(message, field_errors={"handling_unit": [message]})
    locked, _source = _record_move(locked, action=Action.DISPATCH, target=allowed, actor=actor, now=now,
                                   note=note, data={"unit": target_unit.pk, "unit_name": target_unit.name})
    locked.handling_unit = target_unit
    locked.dispatched_at = now
    _save(locked, ["handling_unit", "dispatched_at"])
    sla_services.sla_ticket_event(ticket=locked, event="dispatched", at=now)
    return locked


@transaction.atomic
def ticket_acknowledge(*, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None) -> Ticket:
    """The handling unit accepts the order (接单); the acting member becomes its handler."""
    now = _now(now)
    locked, _source = _move(ticket, action=Action.ACKNOWLEDGE, actor=actor, now=now, note=note)
    locked.acknowledged_at = now
    locked.handler_id = actor.user_id or locked.handler_id
    _save(locked, ["acknowledged_at", "handler"])
    sla_services.sla_ticket_event(ticket=locked, event="acknowledged", at=now)
    return locked


@transaction.atomic
def ticket_record_arrival(*, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None) -> Ticket:
    """The crew is on site (stops the arrival clock)."""
    now = _now(now)
    locked, source = _move(ticket, action=Action.ARRIVE, actor=actor, now=now, note=note)
    locked.arrived_at = now
    fields = ["arrived_at"]
    if source == Status.DISPATCHED:
        locked.acknowledged_at = now
        locked.handler_id = actor.user_id or locked.handler_id
        fields += ["acknowledged_at", "handler"]
        sla_services.sla_ticket_event(ticket=locked, event="acknowledged", at=now)
    _save(locked, fields)
    sla_services.sla_ticket_event(ticket=locked, event="arrived", at=now)
    return locked


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, actor: Actor, cause: str = "", work_done: str = "",
                   reply: str = "", power_restored: bool = True, power_on_at: datetime | None = None,
                   note: str = "", now: datetime | None = None) -> Ticket:
    """Record the result (回单): for a repair the cause, the work done and the restoration."""
    now = _now(now)
    locked, _source = _move(ticket, action=Action.RESOLVE, actor=actor, now=now, note=note)
    locked.resolved_at = now
    fields = ["resolved_at"]
    if cause:
        locked.cause = cause
        fields.append("cause")
    if work_done:
        locked.work_done = work_done
        fields.append("work_done")
    if reply:
        locked.reply, locked.replied_at = reply, now
        fields += ["reply", "replied_at"]
    if locked.category == Category.REPAIR and power_restored and not locked.inside_customer_installation:
        locked.restored_at = now
        fields.append("restored_at")
    if power_on_at is not None:
        locked.power_on_at = power_on_at
        fields.append("power_on_at")
    _save(locked, fields)
    if locked.restored_at:
        sla_services.sla_ticket_event(ticket=locked, event="restored", at=now)
    sla_services.sla_ticket_event(ticket=locked, event="resolved", at=now)
    return locked


@transaction.atomic
def ticket_reply(*, ticket: Ticket, actor: Actor, reply: str, note: str = "",
                 now: datetime | None = None) -> Ticket:
    """Record the written reply to a complaint, a report or a callback inquiry."""
    if not (reply or "").strip():
        raise TicketError(_("Write the reply."), field_errors={"reply": [_("Write the reply.")]})
    now = _now(now)
    locked, _source = _move(ticket, action=Action.REPLY, actor=actor, now=now, note=note)
    locked.reply, locked.replied_at, locked.resolved_at = reply.strip(), now, now
    _save(locked, ["reply", "replied_at", "resolved_at"])
    sla_services.sla_ticket_event(ticket=locked, event="replied", at=now)
    sla_services.sla_ticket_event(ticket=locked, event="resolved", at=now)
    return locked


@transaction.atomic
def ticket_visit(*, ticket: Ticket, actor: Actor, satisfaction: str, note: str = "",
                 now: datetime | None = None) -> Ticket:
    """Record the return visit (回访). A dissatisfied customer reopens the order: it goes
    back to `dispatched` with its unit and counts against the handler (`reopen_count`)."""
    if satisfaction not in Satisfaction:
        message = _("Choose the customer's satisfaction.")
        raise TicketError(message, field_errors={"satisfaction": [message]})
    now = _now(now)
    dissatisfied = satisfaction == Satisfaction.DISSATISFIED
    locked, _source = _move(ticket, action=Action.VISIT, actor=actor, now=now, note=note,
                            target=Status.DISPATCHED if dissatisfied else None,
                            data={"satisfaction": satisfaction})
    locked.satisfaction, locked.visit_note, locked.visited_at = satisfaction, note, now
    fields = ["satisfaction", "visit_note", "visited_at"]
    if dissatisfied:
        locked.reopen_count += 1
        locked.dispatched_at, locked.acknowledged_at, locked.resolved_at = now, None, None
        fields += ["reopen_count", "dispatched_at", "acknowledged_at", "resolved_at"]
    _save(locked, fields)
    sla_services.sla_ticket_event(ticket=locked, event="reopened" if dissatisfied else "visited", at=now)
    return locked


@transaction.atomic
def ticket_archive(*, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None) -> Ticket:
    now = _now(now)
    locked, _source = _move(ticket, action=Action.ARCHIVE, actor=actor, now=now, note=note)
    locked.archived_at = now
    _save(locked, ["archived_at"])
    return locked


@transaction.atomic
def ticket_cancel(*, ticket: Ticket, actor: Actor, reason: str, now: datetime | None = None) -> Ticket:
    """Cancel an open order; a reason is required and stays on the timeline."""
    if not (reason or "").strip():
        message = _("Give the reason for cancelling.")
        raise TicketError(message, field_errors={"reason": [message]})
    now = _now(now)
    locked, _source = _move(ticket, action=Action.CANCEL, actor=actor, now=now, note=reason.strip())
    locked.cancel_reason, locked.closed_at = reason.strip()[:200], now
    _save(locked, ["cancel_reason", "closed_at"])
    sla_services.sla_ticket_event(ticket=locked, event="closed", at=now)
    return locked


@transaction.atomic
def ticket_merge(*, ticket: Ticket, actor: Actor, master: Ticket | None = None,
                 outage: Outage | None = None, note: str = "", now: datetime | None = None) -> Ticket:
    """Link the order to a known outage or attach it as a child of a master order.

    The merged order stops its own timers; a child follows its master's state and is left
    out of duration statistics.
    """
    if (master is None) == (outage is None):
        raise TicketError(_("Link the order either to an outage or to a master order."))
    if master is not None and (master.pk == ticket.pk or master.master_id is not None):
        message = _("Choose an order that is not itself merged into another.")
        raise TicketError(message, field_errors={"master": [message]})
    now = _now(now)
    data = {"master": master.number} if master else {"outage": outage.number}
    locked, _source = _move(ticket, action=Action.MERGE, actor=actor, now=now, note=note, data=data)
    locked.master, locked.outage, locked.closed_at = master, outage, now
    _save(locked, ["master", "outage", "closed_at"])
    if locked.call_id and outage is not None:
        Call.objects.filter(pk=locked.call_id).update(disposition=Disposition.OUTAGE_INFO)
    sla_services.sla_ticket_event(ticket=locked, event="closed", at=now)
    return locked


# --- Repeat calls --------------------------------------------------------------------------


@transaction.atomic
def ticket_hasten(*, ticket: Ticket, actor: Actor, text: str = "", channel: str = Channel.PHONE,
                  caller_phone: str = "", call_id: str = "", now: datetime | None = None) -> Hastening:
    """Log a repeat call on an open order as a hastening (催办), not as a new order.

    Counts the call on the order (致电次数) and marks it supervised (督办) once it has been
    hastened HASTENINGS_TO_SUPERVISE times.
    """
    now = _now(now)
    locked = _lock(ticket)
    if not locked.is_open:
        raise TransitionNotAllowed(_("Only an open order can be hastened; this one is %(status)s.")
                                   % {"status": locked.get_status_display()})
    if channel not in Channel:
        raise TicketError(_("Unknown channel."), field_errors={"channel": [_("Unknown channel.")]})
    call = None
    if call_id:
        call, _created = Call.objects.get_or_create(call_id=call_id, defaults={"caller_phone": caller_phone})
        Call.objects.filter(pk=call.pk).update(disposition=Disposition.HASTENING)
    hastening = Hastening.objects.create(
        ticket=locked, at=now, channel=channel, text=text.strip(), caller_phone=caller_phone,
        call=call, created_by_id=actor.user_id,
    )
    Ticket.objects.filter(pk=locked.pk).update(call_count=F("call_count") + 1)
    locked.refresh_from_db(fields=["call_count"])
    _event(locked, at=now, kind=TicketEvent.Kind.HASTENING, actor=actor, note=text.strip(),
           data={"channel": channel, "calls": locked.call_count})
    sla_services.notification_send_for_hastening(ticket=locked, now=now)
    if locked.hastenings.count() >= HASTENINGS_TO_SUPERVISE:
        ticket_mark_supervised(ticket=locked, actor=actor, reason=_("Hastened repeatedly"), now=now)
    return hastening


def ticket_mark_supervised(*, ticket: Ticket, actor: Actor, reason: str, now: datetime | None = None) -> bool:
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
                "supervised_at": Case(When(supervised=False, then=Value(now)), default=F("supervised_at")),
            }
            if breached:
                changes["breached"] = True
            Ticket.objects.filter(pk__in=[pk for pk, _supervised in locked]).update(**changes)
            TicketEvent.objects.bulk_create(
                TicketEvent(ticket_id=pk, at=now, kind=TicketEvent.Kind.SUPERVISED, actor_id=actor.user_id,
                            actor_label=actor.label, note=reasons[pk])
                for pk in marked
            )
    return marked


# --- Calls --------------------------------------------------------------------------------


def call_event_handle(*, call_id: str, event: str, at: datetime, caller_phone: str = "",
                      agent_username: str = "") -> call_services.CallEventResult:
    """A switch event, and what it means for the orders taken on that call.

    The dispatch clock of an order taken during a call starts when the call ends, so the
    first `hangup` tells the SLA engine about every order linked to the call.
    """
    with transaction.atomic():
        result = call_services.call_event_record(
            call_id=call_id, event=event, at=at, caller_phone=caller_phone, agent_username=agent_username
        )
        if event == "hangup" and result.changed:
            for ticket in Ticket.objects.filter(call=result.call):
                sla_services.sla_ticket_event(ticket=ticket, event="call_ended", at=at)
    return result


# --- Added for the agent console -----------------------------------------------------------


@transaction.atomic
def ticket_create_for_outage(*, outage: Outage, actor: Actor, note: str = "",
                             now: datetime | None = None, **fields: Any) -> Ticket:
    """Take a repair call about a known outage and link it to the outage in one step.

    One outage can bring thousands of calls: each is recorded (the caller, the time, the
    call) but no other crew is sent. `fields` are those of ticket_create (category is
    repair); if either step is refused, nothing is stored.
    """
    if outage.restored_at is not None:
        message = _("This outage is already over; take the call as a new repair.")
        raise TicketError(message, field_errors={"outage": [message]})
    now = _now(now)
    fields.pop("dispatch", None)
    ticket = ticket_create(actor=actor, now=now, **{**fields, "category": Category.REPAIR})
    return ticket_merge(ticket=ticket, actor=actor, outage=outage, note=note, now=now)
