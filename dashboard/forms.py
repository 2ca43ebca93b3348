"""The filters of the period report and the breach list, and the acknowledgement comment."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.roles import Role
from customers.models import AreaType, HandlingUnit
from dashboard.metrics.basics import BEIJING
from sla.models import TimerName
from tickets.models import Category, SubType

DEFAULT_DAYS = 30
MAX_DAYS = 400


def _blank(label) -> list[tuple[str, str]]:
    return [("", label)]


def _agents() -> list[tuple[str, str]]:
    users = get_user_model().objects.filter(groups__name=Role.AGENT).order_by("username")
    return [
        (u.username, u.get_full_name() or u.username)
        for u in users.only("username", "first_name", "last_name")
    ]


def _units() -> list[tuple[str, str]]:
    return list(
        HandlingUnit.objects.filter(is_active=True).order_by("code").values_list("code", "name")
    )


class ReportFilterForm(forms.Form):
    """Dates are Beijing calendar days, both included; the period is [start 00:00, end+1 00:00)."""

    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    category = forms.ChoiceField(label=_("Category"), required=False)
    subtype = forms.ChoiceField(label=_("Sub-type"), required=False)
    area_type = forms.ChoiceField(label=_("Area type"), required=False)
    unit = forms.ChoiceField(label=_("Handling unit"), required=False)
    agent = forms.ChoiceField(label=_("Agent"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = _("All")
        self.fields["category"].choices = _blank(everything) + list(Category.choices)
        self.fields["subtype"].choices = _blank(everything) + [
            (s.code, str(s))
            for s in SubType.objects.filter(parent__isnull=True).order_by("category", "sort_order")
        ]
        self.fields["area_type"].choices = _blank(everything) + list(AreaType.choices)
        self.fields["unit"].choices = _blank(everything) + _units()
        self.fields["agent"].choices = _blank(everything) + _agents()

    @staticmethod
    def default_period() -> dict[str, date]:
        """The last 30 Beijing days, today included."""
        today = timezone.localdate(timezone=BEIJING)
        return {"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today}

    def clean(self):
        cleaned = super().clean()
        today = timezone.localdate(timezone=BEIJING)
        end = cleaned.get("end") or today
        start = cleaned.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("start", _("The start must not come after the end."))
        elif (end - start).days >= MAX_DAYS:
            self.add_error(
                "start", _("Choose a period of at most %(days)s days.") % {"days": MAX_DAYS}
            )
        cleaned["start"], cleaned["end"] = start, end
        return cleaned

    def period(self) -> tuple[datetime, datetime]:
        start: date = self.cleaned_data["start"]
        end: date = self.cleaned_data["end"]
        return (
            datetime.combine(start, time(), tzinfo=BEIJING),
            datetime.combine(end + timedelta(days=1), time(), tzinfo=BEIJING),
        )

    def filters(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(name) or ""
            for name in ("category", "subtype", "area_type", "unit", "agent")
        }


class BreachFilterForm(forms.Form):
    name = forms.ChoiceField(label=_("Timer"), required=False)
    unit = forms.ChoiceField(label=_("Handling unit"), required=False)
    area_type = forms.ChoiceField(label=_("Area type"), required=False)
    agent = forms.ChoiceField(label=_("Agent"), required=False)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[
            ("", _("All")),
            ("open", _("Not acknowledged")),
            ("acknowledged", pgettext_lazy("breach", "Acknowledged")),
        ],
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        everything = _("All")
        self.fields["name"].choices = _blank(everything) + list(TimerName.choices)
        self.fields["unit"].choices = _blank(everything) + _units()
        self.fields["area_type"].choices = _blank(everything) + list(AreaType.choices)
        self.fields["agent"].choices = _blank(everything) + _agents()


class AcknowledgeForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
