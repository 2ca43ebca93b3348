"""The forms of the agent console and the order page.

They check the shape of what the agent typed (lengths, choices, rows that exist) and the
console's own questions (the repair triage); the rules of a new order live in
``tickets.intake`` and come back from the service as DomainError.field_errors on the same
fields (``add_service_errors``), with the messages the API gives. Labels are written in the
templates, next to the shortcuts.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from calls.models import Disposition
from customers.models import AreaType, Customer, HandlingUnit
from knowledge.models import Article
from outages.models import Outage
from servicedesk.errors import DomainError
from tickets.intake import TicketDraft, draft_clean
from tickets.models import Category, Channel, ReplyForm, Satisfaction, SubType
from tickets.permissions import HASTEN

INSIDE_YES, INSIDE_NO = "yes", "no"
# Service field names that the console shows under another name.
SERVICE_FIELD_ALIASES = {
    "inside_customer_installation": "inside_installation",
    "outage": "link_outage",
    "customer_account": "customer",
}


def add_service_errors(form: forms.Form, error: Any) -> None:
    """Put a DomainError (or DomainError) from a service on the form, one message per field."""
    placed = False
    for name, messages in (getattr(error, "field_errors", None) or {}).items():
        field = SERVICE_FIELD_ALIASES.get(name, name)
        for message in messages:
            form.add_error(field if field in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, getattr(error, "message", str(error)))


class IntakeForm(forms.Form):
    """A new order from the call-intake screen; `draft()` feeds ticket_create."""

    caller_phone = forms.CharField(
        max_length=30, error_messages={"required": _("Enter the caller's phone number.")}
    )
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    call_id = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # Not required by the field: linking a call to an outage implies a repair (see clean).
    category = forms.ChoiceField(choices=Category.choices, widget=forms.RadioSelect, required=False)
    subtype = forms.ModelChoiceField(
        queryset=SubType.objects.filter(parent__isnull=True), required=False
    )
    detail = forms.ModelChoiceField(
        queryset=SubType.objects.filter(parent__isnull=False), required=False
    )
    address = forms.CharField(required=False, max_length=200)
    area_type = forms.ChoiceField(choices=[("", "—"), *AreaType.choices], required=False)
    description = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    handling_unit = forms.ModelChoiceField(
        queryset=HandlingUnit.objects.filter(is_active=True), required=False
    )
    # Repair.
    inside_installation = forms.ChoiceField(
        choices=[(INSIDE_NO, INSIDE_NO), (INSIDE_YES, INSIDE_YES)],
        widget=forms.RadioSelect,
        required=False,
    )
    feeder = forms.CharField(required=False, max_length=60)
    transformer_area = forms.CharField(required=False, max_length=60)
    paid_override_reason = forms.CharField(required=False, max_length=200)
    link_outage = forms.IntegerField(required=False)
    # Inquiry.
    reply_form = forms.ChoiceField(
        choices=ReplyForm.choices, required=False, widget=forms.RadioSelect
    )
    knowledge_article = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reply = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    # Application.
    application_channel = forms.ChoiceField(choices=Channel.choices, required=False)
    resident_id = forms.CharField(required=False, max_length=18)
    contact_name = forms.CharField(required=False, max_length=60)
    contact_phone = forms.CharField(required=False, max_length=30)
    # Complaint / report.
    party = forms.CharField(required=False, max_length=200)

    def clean_customer(self) -> Customer | None:
        customer_id = self.cleaned_data.get("customer")
        if not customer_id:
            return None
        customer = Customer.objects.select_related("service_area").filter(pk=customer_id).first()
        if customer is None:
            raise ValidationError(_("This customer no longer exists; search again."))
        return customer

    def clean_link_outage(self) -> Outage | None:
        outage_id = self.cleaned_data.get("link_outage")
        if not outage_id:
            return None
        outage = Outage.objects.filter(pk=outage_id).first()
        if outage is None:
            raise ValidationError(_("This outage no longer exists."))
        return outage

    def clean_knowledge_article(self) -> Article | None:
        article_id = self.cleaned_data.get("knowledge_article")
        if not article_id:
            return None
        return Article.objects.filter(pk=article_id).first()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("link_outage"):
            # Linking a call to a known outage is always a repair, and the outage says what
            # the caller reports when the agent has not typed anything else.
            data["category"] = Category.REPAIR
            if not (data.get("description") or "").strip():
                data["description"] = str(
                    _("No power: told the caller about outage %(number)s.")
                    % {"number": data["link_outage"].number}
                )
            data["inside_installation"] = INSIDE_NO
        category = data.get("category")
        if not category:
            if "category" not in self.errors:
                self.add_error("category", _("Choose the service category (Alt+1 to Alt+5)."))
            return data
        # The triage question comes first on the console: is the fault inside the customer's
        # own installation? (The rules of the order itself are tickets.intake's.)
        if category == Category.REPAIR and not data.get("inside_installation"):
            self.add_error(
                "inside_installation",
                _("First ask whether the fault is inside the customer's own installation."),
            )
        # Every rule's message at once, from the rules the service applies on submit.
        try:
            draft_clean(self.draft()[0], require_details=True)
        except DomainError as error:
            for name, messages in error.field_errors.items():
                field = SERVICE_FIELD_ALIASES.get(name, name)
                if field in self.fields and field not in self.errors:
                    for message in messages:
                        self.add_error(field, message)
        return data

    @property
    def outage(self) -> Outage | None:
        return self.cleaned_data.get("link_outage")

    def draft(self) -> tuple[TicketDraft, bool]:
        """The order as typed, for tickets.services.ticket_create, and whether the submit
        sends it on to its unit at once (not when the agent resolved it on the call)."""
        data = self.cleaned_data
        category = data["category"]
        fields: dict[str, Any] = {
            "category": category,
            "caller_phone": data.get("caller_phone", ""),
            "description": data.get("description", ""),
            "channel": Channel.PHONE,
            "customer": data.get("customer"),
            "subtype": data.get("subtype"),
            "detail": data.get("detail"),
            "address": data.get("address", ""),
            "area_type": data.get("area_type", ""),
            "call_id": data.get("call_id", ""),
        }
        dispatch = True
        if category == Category.REPAIR:
            inside = data.get("inside_installation") == INSIDE_YES
            fields.update(
                inside_customer_installation=inside,
                feeder=data.get("feeder", ""),
                transformer_area=data.get("transformer_area", ""),
                paid_override_reason=data.get("paid_override_reason", ""),
            )
            if inside:
                dispatch = False
                if fields["subtype"] is None:
                    fields["subtype"] = SubType.objects.filter(code="repair-customer").first()
        elif category == Category.INQUIRY:
            reply_form = data.get("reply_form") or ReplyForm.ON_CALL
            fields.update(reply_form=reply_form, knowledge_article=data.get("knowledge_article"))
            if reply_form == ReplyForm.ON_CALL:
                fields.update(answer_on_call=True, reply=data.get("reply", ""))
                dispatch = False
        elif category == Category.APPLICATION:
            fields.update(
                application_channel=data.get("application_channel") or Channel.PHONE,
                resident_id=data.get("resident_id", ""),
                contact_name=data.get("contact_name", ""),
                contact_phone=data.get("contact_phone", ""),
            )
        else:
            fields["party"] = data.get("party", "")
        return TicketDraft(**fields), dispatch


class HastenForm(forms.Form):
    """A repeat call logged on an open order (催办)."""

    text = forms.CharField(required=False, max_length=1000)
    caller_phone = forms.CharField(required=False, max_length=30)
    call_id = forms.CharField(required=False, max_length=64)


class DispositionForm(forms.Form):
    """A call that became no order: wrong number or nuisance."""

    disposition = forms.ChoiceField(
        choices=[
            (d.value, d.label)
            for d in (Disposition.WRONG_NUMBER, Disposition.NUISANCE, Disposition.SILENT)
        ]
    )
    call_id = forms.CharField(required=False, max_length=64)
    caller_phone = forms.CharField(required=False, max_length=30)
    note = forms.CharField(required=False, max_length=200)


class ActionForm(forms.Form):
    """The fields of every action on the order page; each action reads its own."""

    note = forms.CharField(required=False, max_length=1000)
    reason = forms.CharField(required=False, max_length=200)
    reply = forms.CharField(required=False, max_length=4000)
    satisfaction = forms.ChoiceField(choices=[("", "—"), *Satisfaction.choices], required=False)
    cause = forms.CharField(required=False, max_length=2000)
    work_done = forms.CharField(required=False, max_length=2000)
    power_restored = forms.BooleanField(required=False)
    text = forms.CharField(required=False, max_length=1000)
    # Re-dispatch: the code of the unit that takes the order over.
    handling_unit = forms.CharField(required=False, max_length=40)

    REQUIRED = {
        "cancel": {"reason": _("Give the reason for cancelling.")},
        "return_check": {"reason": _("Give the reason for returning the order.")},
        "terminate": {"reason": _("Give the reason for terminating the service.")},
        "redispatch": {
            "handling_unit": _("Choose an active handling unit."),
            "reason": _("Give the reason for re-dispatching."),
        },
        "reply": {"reply": _("Write the reply.")},
        "visit": {"satisfaction": _("Choose the customer's satisfaction.")},
        "resolve": {},
        HASTEN: {},
    }

    def __init__(self, *args: Any, action: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name, message in self.REQUIRED.get(self.action, {}).items():
            if not (data.get(name) or "").strip():
                self.add_error(name, message)
        return data
