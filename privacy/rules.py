"""Who sees personal data in full: the one table pages, the API and the exports ask.

Resident ID numbers and phone numbers are personal data (SPEC §5). They are stored once, in
full, and shown masked (110105********1234, 138****5678) except where the table below says
a role's work needs them:

==================  ==========================  =============================================
role                phone numbers in full       may reveal once, logged (order page button)
==================  ==========================  =============================================
agent               on the orders they took     resident ID of the orders they took
crew member         on their unit's orders      —
department handler  on their unit's orders      resident ID of their unit's orders
supervisor          —                           phone numbers and resident ID of any order
centre manager      —                           —
administrator       —                           phone numbers and resident ID of any order
==================  ==========================  =============================================

And for every role alike:

- the resident ID number is never shown in full without the reveal, which records who, when
  and which order (privacy.models.DisclosureLog) and shows it on that one answer only;
- the console shows the number of the caller on the line in full (the agent dialled in with
  it or typed it); the customer's other numbers on the caller card are masked;
- lists (My orders, the unit's orders, the caller card) and CSV/XLSX exports hold many
  orders at once: phone numbers there are always masked, and every export is logged with
  its row count;
- integration clients see phone numbers in full only with the `personal:read` scope
  (api.models.Scope); a signed-in person using the API gets what the pages give them. The
  API carries no resident ID number at all.

Crews and department handlers call the customer back or meet them on site, so the orders of
their own unit show the numbers; the agent who took the call owns the order (首问负责制)
and makes its callback and return visit. Supervisors reassign and watch time limits, which
needs no number; when a complaint does, the reveal is on record. The centre manager reads
figures and reports, never one customer's data. The pages' gates (who reaches the order page
and the reveal at all) are in accounts.matrix; this table decides what they then show.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role, roles_of
from api.models import Scope
from customers.validators import mask_phone, mask_resident_id
from tickets.permissions import unit_ids_of


class Field(models.TextChoices):
    PHONE = "phone", _("phone number")
    RESIDENT_ID = "resident_id", _("resident ID number")


class Reach(StrEnum):
    """On which orders a role's entry applies."""

    OWN = "own"  # the orders the agent took (the order's owner)
    UNIT = "unit"  # the orders of the handling units the person belongs to
    ANY = "any"


# role → field → (shown in full on, may reveal on); None: never. The table of the docstring.
# fmt: off
RULES: dict[str, dict[str, tuple[Reach | None, Reach | None]]] = {
    Role.AGENT:      {Field.PHONE: (Reach.OWN, None),  Field.RESIDENT_ID: (None, Reach.OWN)},
    Role.CREW:       {Field.PHONE: (Reach.UNIT, None), Field.RESIDENT_ID: (None, None)},
    Role.DEPARTMENT: {Field.PHONE: (Reach.UNIT, None), Field.RESIDENT_ID: (None, Reach.UNIT)},
    Role.SUPERVISOR: {Field.PHONE: (None, Reach.ANY),  Field.RESIDENT_ID: (None, Reach.ANY)},
    Role.MANAGER:    {Field.PHONE: (None, None),       Field.RESIDENT_ID: (None, None)},
    Role.ADMIN:      {Field.PHONE: (None, Reach.ANY),  Field.RESIDENT_ID: (None, Reach.ANY)},
}
# fmt: on
IN_FULL, REVEAL = 0, 1

MASKS = {Field.PHONE: mask_phone, Field.RESIDENT_ID: mask_resident_id}


def _reaches(user, reach: Reach | None, *, owner_id: int | None, unit_id: int | None) -> bool:
    if reach is None:
        return False
    if reach is Reach.ANY:
        return True
    if reach is Reach.OWN:
        return owner_id is not None and owner_id == user.pk
    return unit_id is not None and unit_id in unit_ids_of(user)


def _granted(user, field: str, column: int, *, owner_id: int | None, unit_id: int | None) -> bool:
    return any(
        _reaches(user, RULES[role][field][column], owner_id=owner_id, unit_id=unit_id)
        for role in roles_of(user)
        if role in RULES
    )


def in_full_on_order(*, user, ticket, field: str) -> bool:
    """Does the order page show this field of this order in full to this person?"""
    return _granted(user, field, IN_FULL, owner_id=ticket.owner_id, unit_id=ticket.handling_unit_id)


def may_reveal(*, user, ticket, field: str) -> bool:
    """May this person press "show in full" for this field of this order?"""
    return _granted(user, field, REVEAL, owner_id=ticket.owner_id, unit_id=ticket.handling_unit_id)


# --- What the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class OrderPersonalData:
    """The personal data of one order as the order page shows it to one person.

    `revealable`: the fields masked now that this person may reveal (a button each);
    `revealed`: the field shown in full on this answer by the reveal, if any.
    """

    caller_phone: str
    contact_phone: str
    resident_id: str
    phones_in_full: bool
    revealable: tuple[str, ...]
    revealed: str = ""

    def phone(self, number: str) -> str:
        """Another number of the order (a hastening's caller) as this page shows its phones."""
        return number if self.phones_in_full else mask_phone(number)


def order_personal_data(*, user, ticket, revealed: str = "") -> OrderPersonalData:
    """What the order page shows; `revealed` is a field the caller has just logged a reveal of."""
    in_full = {
        field: field == revealed or in_full_on_order(user=user, ticket=ticket, field=field)
        for field in Field.values
    }
    present = {
        Field.PHONE: bool(ticket.caller_phone or ticket.contact_phone),
        Field.RESIDENT_ID: bool(ticket.resident_id),
    }
    return OrderPersonalData(
        caller_phone=_shown(ticket.caller_phone, Field.PHONE, in_full),
        contact_phone=_shown(ticket.contact_phone, Field.PHONE, in_full),
        resident_id=_shown(ticket.resident_id, Field.RESIDENT_ID, in_full),
        phones_in_full=in_full[Field.PHONE],
        revealable=tuple(
            field
            for field in Field.values
            if present[field]
            and not in_full[field]
            and may_reveal(user=user, ticket=ticket, field=field)
        ),
        revealed=revealed,
    )


def _shown(value: str, field: str, in_full: dict[str, bool]) -> str:
    return value if in_full[field] else MASKS[field](value)


def phone_in_list(number: str) -> str:
    """A phone number in a list or an export (many orders at once): always masked."""
    return mask_phone(number)


def phone_on_console(number: str, *, caller: str) -> str:
    """A customer's number on the caller card: in full if it is the caller's on the line."""
    return number if caller and number == caller else mask_phone(number)


# --- What the API answers ----------------------------------------------------------------------

API_PHONE_KEYS = ("caller_phone", "contact_phone")


def api_phones_in_full(*, client) -> bool:
    """An integration client sees phone numbers in full only with the `personal:read` scope."""
    return Scope.PERSONAL_READ in (client.scopes or ())


def api_rows_shown(rows: list[dict[str, Any]], *, client) -> list[dict[str, Any]]:
    """List rows (plain dicts) with the phone numbers the requester may see.

    A list holds many orders: masked for people, as the pages' lists; in full for a client
    with the scope.
    """
    if client is not None and api_phones_in_full(client=client):
        return rows
    for row in rows:
        row["caller_phone"] = phone_in_list(row["caller_phone"])
    return rows


def api_order_shown(answer: dict[str, Any], *, ticket, client, user) -> dict[str, Any]:
    """One order's answer with the phone numbers the requester may see (as its order page)."""
    if client is not None:
        in_full = api_phones_in_full(client=client)
    else:
        in_full = in_full_on_order(user=user, ticket=ticket, field=Field.PHONE)
    if not in_full:
        for key in API_PHONE_KEYS:
            if key in answer:
                answer[key] = mask_phone(answer[key])
    return answer
