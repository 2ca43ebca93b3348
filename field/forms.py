"""The forms of the crew and department pages.

They check the shape of what was typed (lengths, choices, a time that parses); the rules of
the result itself (a restoration time not in the future, the reason for charging otherwise
than the asset owner implies) are the service's and come back from it on the same fields
(tickets.forms.add_service_errors), with the messages the API gives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import AssetOwner, ReplyForm

PAID, FREE = "paid", "free"
# What a phone's <input type="datetime-local"> sends (with or without seconds).
LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class NoteForm(forms.Form):
    """Accept, contacted the customer, arrived on site, hand back: an optional note."""

    note = forms.CharField(required=False, max_length=1000)

    def service_kwargs(self) -> dict[str, Any]:
        return {"note": self.cleaned_data.get("note", "").strip()}


class ResultForm(forms.Form):
    """A repair's result (处理结果), typed on site on a phone."""

    cause = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what caused the fault.")},
    )
    work_done = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say what was done.")},
    )
    # Beijing wall clock (the active time zone); empty while power is not back.
    restored_at = forms.DateTimeField(
        required=False,
        input_formats=LOCAL_TIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Give the time as date and hour:minute.")},
    )
    asset_owner = forms.ChoiceField(
        choices=AssetOwner.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who owns the faulty equipment.")},
    )
    paid = forms.ChoiceField(
        choices=[(FREE, _("Free of charge")), (PAID, _("Paid service"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the work is paid.")},
    )
    paid_override_reason = forms.CharField(required=False, max_length=200)
    note = forms.CharField(required=False, max_length=1000)

    @classmethod
    def initial_for(cls, ticket, *, now: datetime) -> dict[str, Any]:
        """What the form starts with: now as the restoration time, the order's asset owner
        and paid flag as the agent took them."""
        return {
            "restored_at": timezone.localtime(ticket.restored_at or now).replace(
                second=0, microsecond=0
            ),
            "asset_owner": ticket.asset_owner or AssetOwner.UTILITY,
            "paid": PAID if ticket.is_paid else FREE,
            "paid_override_reason": ticket.paid_override_reason,
            "cause": ticket.cause,
            "work_done": ticket.work_done,
        }

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        restored_at = data.get("restored_at")
        return {
            "cause": data["cause"].strip(),
            "work_done": data["work_done"].strip(),
            "restored_at": restored_at,
            "power_restored": restored_at is not None,
            "asset_owner": data["asset_owner"],
            "is_paid": data["paid"] == PAID,
            "paid_override_reason": data.get("paid_override_reason", "").strip(),
            "note": data.get("note", "").strip(),
        }


# How a department gives its reply to the customer: by phone or by SMS (it was not on the
# customer's call; that is the agent's own answer).
DEPARTMENT_REPLY_FORMS = [(c.value, c.label) for c in (ReplyForm.CALLBACK, ReplyForm.SMS)]


class ReplyTextForm(forms.Form):
    """The department's written reply to a complaint, a tip-off or an inquiry, and how it
    was given."""

    reply = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Write the reply.")},
    )
    reply_form = forms.ChoiceField(
        choices=DEPARTMENT_REPLY_FORMS,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how the reply was given.")},
    )
    note = forms.CharField(required=False, max_length=1000)

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "reply": data["reply"].strip(),
            "reply_form": data["reply_form"],
            "note": data.get("note", "").strip(),
        }
