"""The filing form. It checks the shape of what the supervisor typed; the rules (end after
start, at least one area, a script) are `matters.services`' and come back as DomainError
field errors on the same fields."""

from __future__ import annotations

from typing import Any

from django import forms

from customers.models import ServiceArea
from matters.models import ImportantMatter
from matters.services import MatterDraft
from outages.forms import TIME_FORMATS, add_service_errors

__all__ = ["MatterForm", "add_service_errors"]


def _time_field() -> forms.DateTimeField:
    # Blank is the service's to refuse, with its own message.
    return forms.DateTimeField(
        input_formats=TIME_FORMATS,
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class MatterForm(forms.Form):
    title = forms.CharField(max_length=200, required=False)
    script = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    background = forms.CharField(
        max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    valid_from = _time_field()
    valid_to = _time_field()
    service_areas = forms.ModelMultipleChoiceField(
        queryset=ServiceArea.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_areas"].queryset = ServiceArea.objects.filter(is_active=True).order_by(
            "code"
        )

    @staticmethod
    def initial_for(matter: ImportantMatter) -> dict[str, Any]:
        return {
            "title": matter.title,
            "script": matter.script,
            "background": matter.background,
            "valid_from": matter.valid_from,
            "valid_to": matter.valid_to,
            "service_areas": list(matter.service_areas.values_list("pk", flat=True)),
        }

    def draft(self) -> MatterDraft:
        data = self.cleaned_data
        return MatterDraft(
            title=data.get("title", ""),
            script=data.get("script", ""),
            background=data.get("background", ""),
            valid_from=data.get("valid_from"),
            valid_to=data.get("valid_to"),
            service_areas=list(data.get("service_areas") or []),
        )
