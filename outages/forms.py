"""The forms of the outage register pages.

They check the shape of what the dispatch desk typed; the rules (the 3–7 day notice, what
an outage must cover, times in the right order) live in `outages.services` and come back as
DomainError.field_errors on the same fields (`add_service_errors`).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import HandlingUnit, ServiceArea
from outages.models import Outage
from outages.services import OutageDraft

# The browser's date-and-time field, on the Beijing clock (the active time zone).
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
# Feeders and transformer areas are typed one a line, or separated by commas or 、.
SEPARATORS = re.compile(r"[\n,，、;；]+")


def add_service_errors(form: forms.Form, error: Any) -> None:
    """Put a DomainError from a service on the form, one message per field."""
    placed = False
    for name, messages in (getattr(error, "field_errors", None) or {}).items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
            placed = True
    if not placed:
        form.add_error(None, getattr(error, "message", str(error)))


def _time_field(**kwargs: Any) -> forms.DateTimeField:
    return forms.DateTimeField(
        input_formats=TIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        **kwargs,
    )


def _crews() -> Any:
    return HandlingUnit.objects.filter(
        is_active=True, kind__in=[HandlingUnit.Kind.CREW, HandlingUnit.Kind.STATION]
    ).order_by("code")


class OutageForm(forms.Form):
    """Register or edit an outage; `draft()` feeds outage_register / outage_update."""

    number = forms.CharField(max_length=30, required=False)
    kind = forms.ChoiceField(choices=Outage.Kind.choices)
    title = forms.CharField(max_length=200)
    cause = forms.CharField(max_length=200, required=False)
    description = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    starts_at = _time_field()
    confirmed_at = _time_field(required=False)
    expected_restoration_at = _time_field(required=False)
    notice_at = _time_field(required=False)
    service_areas = forms.ModelMultipleChoiceField(
        queryset=ServiceArea.objects.filter(is_active=True).select_related("crew"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    feeders = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    transformer_areas = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    crew = forms.ModelChoiceField(queryset=_crews(), required=False)
    notice_override_reason = forms.CharField(
        max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["crew"].queryset = _crews()

    @staticmethod
    def initial_for(outage: Outage) -> dict[str, Any]:
        return {
            "number": outage.number,
            "kind": outage.kind,
            "title": outage.title,
            "cause": outage.cause,
            "description": outage.description,
            "starts_at": outage.starts_at,
            "confirmed_at": outage.confirmed_at,
            "expected_restoration_at": outage.expected_restoration_at,
            "notice_at": outage.notice_at,
            "service_areas": list(outage.service_areas.values_list("pk", flat=True)),
            "feeders": "\n".join(outage.feeders),
            "transformer_areas": "\n".join(outage.transformer_areas),
        }

    def draft(self) -> OutageDraft:
        data = self.cleaned_data
        return OutageDraft(
            kind=data["kind"],
            title=data["title"],
            starts_at=data.get("starts_at"),
            number=data.get("number", ""),
            cause=data.get("cause", ""),
            description=data.get("description", ""),
            confirmed_at=data.get("confirmed_at"),
            expected_restoration_at=data.get("expected_restoration_at"),
            notice_at=data.get("notice_at"),
            service_areas=list(data.get("service_areas") or []),
            feeders=SEPARATORS.split(data.get("feeders", "")),
            transformer_areas=SEPARATORS.split(data.get("transformer_areas", "")),
            crew=data.get("crew"),
        )

    @property
    def override_reason(self) -> str:
        return self.cleaned_data.get("notice_override_reason", "")


class RestorationForm(forms.Form):
    expected_restoration_at = _time_field(
        error_messages={"required": _("Enter the new expected restoration.")}
    )
    note = forms.CharField(max_length=1000, required=False)


class DispatchForm(forms.Form):
    unit = forms.ModelChoiceField(
        queryset=_crews(), error_messages={"required": _("Choose the crew.")}
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = _crews()


class AuthorityReportForm(forms.Form):
    note = forms.CharField(max_length=200, required=False)


class EndForm(forms.Form):
    restored_at = _time_field(required=False)
    note = forms.CharField(max_length=1000, required=False)
