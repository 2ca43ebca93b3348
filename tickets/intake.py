"""What a new order must say, for every channel: the draft and its rules.

The console's form and the API's serializer both turn what they received into a
`TicketDraft` and hand it to `tickets.services.ticket_create`, which checks it with
`draft_clean` — so a bad resident ID number gets the same message on the page and in the
API's 400, and the rules live here only.

Two kinds of rule:
- a value that is wrong (a phone number that is no number, a resident ID with a bad check
  digit, a sub-type of another category) is refused on every channel;
- a detail the category needs but the caller did not give (the party complained about, the
  householder's ID for an application) is asked for by the agent on the call
  (`require_details`), while an order from another channel is taken without it and flagged
  for the handler to complete (`Ticket.to_complete`): a caller is never turned away for
  missing data (SPEC section 7).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import AreaType, Customer, ServiceArea
from customers.validators import normalize_phone, validate_resident_id
from knowledge.models import Article
from servicedesk.errors import DomainError
from tickets.models import Category, Channel, ReplyForm, SubType


@dataclass(frozen=True)
class TicketDraft:
    """A new order as received, before it is taken. Times are UTC."""

    category: str
    caller_phone: str
    description: str
    channel: str = Channel.PHONE
    customer: Customer | None = None
    subtype: SubType | None = None
    detail: SubType | None = None
    address: str = ""
    area_type: str = ""
    service_area: ServiceArea | None = None
    call_id: str = ""
    call_at: datetime | None = None
    # Inquiry: answered while the caller is on the line (resolved at once), or how to reply.
    answer_on_call: bool = False
    reply_form: str = ""
    reply: str = ""
    knowledge_article: Article | None = None
    # Application.
    application_channel: str = ""
    resident_id: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    # Repair.
    feeder: str = ""
    transformer_area: str = ""
    inside_customer_installation: bool = False
    asset_owner: str = ""
    paid_override_reason: str = ""
    # Complaint / report.
    party: str = ""


DRAFT_FIELDS = frozenset(f.name for f in dataclasses.fields(TicketDraft))

# The details each category needs, and what the agent is asked to fill in when one is missing.
DETAILS_NEEDED: dict[str, dict[str, str]] = {
    Category.APPLICATION: {
        "subtype": gettext_lazy("Choose what the customer applies for."),
        "resident_id": gettext_lazy("Enter the householder's resident ID number."),
        "contact_name": gettext_lazy("Enter the contact person."),
        "contact_phone": gettext_lazy("Enter the contact phone."),
    },
    Category.COMPLAINT: {
        "subtype": gettext_lazy("Choose what the complaint is about."),
        "party": gettext_lazy("Enter the unit or person complained about."),
    },
    Category.REPORT: {
        "subtype": gettext_lazy("Choose what is reported."),
        "party": gettext_lazy("Enter the unit or person reported."),
    },
}
ADDRESS_NEEDED = gettext_lazy("Enter the fault address: the crew needs it to find the place.")


def details_missing(draft: TicketDraft) -> dict[str, str]:
    """Field → what to ask, for the details the draft's category needs and does not have."""
    needed = dict(DETAILS_NEEDED.get(draft.category, {}))
    if draft.category == Category.REPAIR and draft.customer is None:
        needed["address"] = ADDRESS_NEEDED
    missing = {}
    for name, message in needed.items():
        value = getattr(draft, name)
        if value is None or not str(value).strip():
            missing[name] = str(message)
    return missing


def draft_clean(draft: TicketDraft, *, require_details: bool) -> tuple[TicketDraft, list[str]]:
    """The draft with its texts trimmed and its phone numbers normalised, and the names of
    the details still to complete; raises DomainError with a message per field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(str(message))

    changes: dict[str, object] = {}
    if draft.category not in Category:
        add("category", _("Choose one of the five service categories."))
    try:
        changes["caller_phone"] = normalize_phone(draft.caller_phone)
    except ValidationError as exc:
        add("caller_phone", exc.messages[0])
    if not (draft.description or "").strip():
        add("description", _("Write down what the caller reports."))
    if draft.channel not in Channel:
        add("channel", _("Unknown channel."))
    if draft.application_channel and draft.application_channel not in Channel:
        add("application_channel", _("Unknown channel."))
    if draft.area_type and draft.area_type not in AreaType:
        add("area_type", _("The area type must be urban, rural or remote."))
    if draft.subtype is not None and draft.subtype.category != draft.category:
        add("subtype", _("This sub-type belongs to another category."))
    if draft.detail is not None and (
        draft.subtype is None or draft.detail.parent_id != draft.subtype.pk
    ):
        add("detail", _("This detail does not belong to the chosen sub-type."))
    resident_id = (draft.resident_id or "").strip().upper()
    if resident_id:
        try:
            validate_resident_id(resident_id)
        except ValidationError as exc:
            add("resident_id", exc.messages[0])
    changes["resident_id"] = resident_id
    if (draft.contact_phone or "").strip():
        try:
            changes["contact_phone"] = normalize_phone(draft.contact_phone)
        except ValidationError as exc:
            add("contact_phone", exc.messages[0])
    if draft.reply_form and draft.reply_form not in ReplyForm:
        add("reply_form", _("Unknown reply form."))
    if draft.category == Category.INQUIRY and draft.answer_on_call and not draft.reply.strip():
        add("reply", _("Write down the answer given on the call."))
    if draft.category != Category.REPAIR and draft.inside_customer_installation:
        add(
            "inside_customer_installation",
            _("Only a repair can be a fault inside the customer's installation."),
        )
    missing = details_missing(draft)
    if require_details:
        for name, message in missing.items():
            if name not in errors:
                add(name, message)
    if errors:
        raise DomainError(_("Please correct the marked fields."), field_errors=errors)
    for name in (
        "description",
        "address",
        "reply",
        "contact_name",
        "feeder",
        "transformer_area",
        "paid_override_reason",
        "party",
    ):
        changes[name] = getattr(draft, name).strip()
    return dataclasses.replace(draft, **changes), sorted(missing)
