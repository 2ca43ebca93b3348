"""`take_order`: an order taken through the real service, for tests that vary its fields.

Splits the keyword arguments into the draft (what the caller said) and the service's options
(`dispatch`, `handling_unit`, `require_details`, `now`), so a test can write them together.
"""

from __future__ import annotations

from typing import Any

from tickets import services
from tickets.intake import DRAFT_FIELDS, TicketDraft
from tickets.models import Ticket


def take_order(*, actor, **fields: Any) -> Ticket:
    options = {name: fields.pop(name) for name in list(fields) if name not in DRAFT_FIELDS}
    return services.ticket_create(draft=TicketDraft(**fields), actor=actor, **options)
