"""Call events from the telephony switch, and dispositions set by agents.

Switches resend and reorder events: `ring`, `answer` and `hangup` for one call id may
arrive in any order and more than once. Each event fills its own time only if it is still
empty, so repeats change nothing and the call ends up with the right three times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import Call, Disposition
from customers.validators import normalize_phone
from servicedesk.errors import DomainError

EVENT_FIELDS = {"ring": "ring_at", "answer": "answer_at", "hangup": "hangup_at"}


@dataclass(frozen=True)
class CallEventResult:
    call: Call
    created: bool
    changed: bool  # False when the event was a repeat (the time was already set)


def call_event_record(
    *, call_id: str, event: str, at: datetime, caller_phone: str = "", agent_username: str = ""
) -> CallEventResult:
    """Record one switch event; an unknown call id starts a call record."""
    field = EVENT_FIELDS.get(event)
    if field is None:
        message = _("The event must be ring, answer or hangup.")
        raise DomainError(message, field_errors={"event": [message]})
    if not call_id:
        message = _("The call id is required.")
        raise DomainError(message, field_errors={"call_id": [message]})
    agent = None
    if agent_username:
        agent = get_user_model().objects.filter(username=agent_username).first()
        if agent is None:
            message = _("No agent with this username.")
            raise DomainError(message, field_errors={"agent": [message]})
    with transaction.atomic():
        call, created = _get_or_create_locked(call_id=call_id, caller_phone=caller_phone)
        updates: dict[str, object] = {}
        if getattr(call, field) is None:
            updates[field] = at
        if caller_phone and not call.caller_phone:
            updates["caller_phone"] = caller_phone
        if agent is not None and call.agent_id is None:
            updates["agent"] = agent
        for name, value in updates.items():
            setattr(call, name, value)
        if updates:
            call.save(update_fields=list(updates))
    return CallEventResult(call=call, created=created, changed=field in updates)


def _get_or_create_locked(*, call_id: str, caller_phone: str) -> tuple[Call, bool]:
    call = Call.objects.select_for_update().filter(call_id=call_id).first()
    if call is not None:
        return call, False
    try:
        # A savepoint, so a concurrent insert of the same id leaves the outer transaction usable.
        with transaction.atomic():
            return Call.objects.create(call_id=call_id, caller_phone=caller_phone), True
    except IntegrityError:
        return Call.objects.select_for_update().get(call_id=call_id), False


def call_set_disposition(*, call: Call, disposition: str, note: str = "") -> Call:
    """What the call became (wrong number, nuisance…), chosen by the agent in one action."""
    if disposition not in Disposition or not disposition:
        message = _("Choose what the call was.")
        raise DomainError(message, field_errors={"disposition": [message]})
    call.disposition = disposition
    call.note = note[:200]
    call.save(update_fields=["disposition", "note"])
    return call


@transaction.atomic
def call_record_disposition(
    *,
    agent,
    disposition: str,
    call_id: str = "",
    caller_phone: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Call:
    """Log what a call that became no order was (wrong number, nuisance…) in one action.

    With the switch's call id the call already exists; without one (the switch link is
    down and the agent typed the number) a call record is made for it, so the call still
    counts in the centre's figures.
    """
    now = now or timezone.now()
    if call_id:
        call = Call.objects.select_for_update().filter(call_id=call_id).first()
        if call is None:
            message = _("No call with this id.")
            raise DomainError(message, field_errors={"call_id": [message]})
    else:
        try:
            phone = normalize_phone(caller_phone)
        except ValidationError as exc:
            raise DomainError(
                exc.messages[0], field_errors={"caller_phone": exc.messages}
            ) from None
        call = Call.objects.create(
            call_id=f"manual-{agent.pk if agent else 0}-{now:%Y%m%d%H%M%S%f}",
            caller_phone=phone,
            agent=agent,
            ring_at=now,
            answer_at=now,
        )
    return call_set_disposition(call=call, disposition=disposition, note=note)
