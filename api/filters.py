"""Query-string filters of the list endpoints (django-filter).

A bad value (an unknown category, a date that is not a date) answers 400 with a message
for that parameter; it never reaches the database.
"""

from __future__ import annotations

import copy
from datetime import datetime, time
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from customers.models import AreaType
from sla.models import TimerName
from sla.policy import BEIJING
from tickets.models import Category, Status


class InstantField(forms.Field):
    """An ISO-8601 date-time, or a bare date meaning midnight of that day in Beijing.

    A client asking for "orders created after 2026-11-01" means the Beijing calendar day,
    which starts at 16:00 UTC the evening before; a time without an offset is Beijing time.
    """

    default_error_messages = {
        "invalid": _(
            "Enter an ISO-8601 date (2026-11-01) or date-time (2026-11-01T08:30:00+08:00)."
        ),
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            instant = parse_datetime(text)
            if instant is None:
                day = parse_date(text)
                instant = datetime.combine(day, time.min) if day is not None else None
        except (ValueError, OverflowError):
            instant = None
        if instant is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if timezone.is_naive(instant):
            instant = instant.replace(tzinfo=BEIJING)
        return instant


@extend_schema_field({"type": "string", "example": "2026-11-01T08:30:00+08:00"})
class InstantFilter(django_filters.Filter):
    field_class = InstantField


class FlagField(forms.Field):
    """true or false (1 / 0 too). Anything else is a mistake in the request, not "no filter"."""

    default_error_messages = {"invalid": _("Use true or false.")}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        flag = self._VALUES.get(str(value).strip().lower())
        if flag is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return flag


@extend_schema_field(OpenApiTypes.BOOL)
class FlagFilter(django_filters.Filter):
    field_class = FlagField


class _ShallowCopies(dict):
    """Filters (or form fields) whose per-request copies are shallow.

    django-filter deep-copies every filter for each request, then builds a form class from
    them and a form that deep-copies every field again, choice lists and their lazy labels
    included, on every request. Filters and fields keep no state
    of their own while a query string is validated and applied, besides the attributes set
    on the copy (`model`, `parent`), so a shallow copy of each does the same job. A filter
    with a `method` is bound to its copy's parent and is copied in full.
    """

    def __deepcopy__(self, memo: dict) -> dict:
        return {
            name: copy.deepcopy(item, memo) if getattr(item, "_method", None) else copy.copy(item)
            for name, item in self.items()
        }


class LeanFilterSet(django_filters.FilterSet):
    """A FilterSet that copies its filters shallowly and builds its form class once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cls = type(self)
        if not isinstance(cls.__dict__.get("base_filters"), _ShallowCopies):
            cls.base_filters = _ShallowCopies(cls.base_filters)
        super().__init__(*args, **kwargs)

    def get_form_class(self) -> type[forms.Form]:
        cls = type(self)
        form_class = cls.__dict__.get("_form_class")
        if form_class is None:
            fields = {name: filter_.field for name, filter_ in cls.base_filters.items()}
            form_class = type(f"{cls.__name__}Form", (self._meta.form,), fields)
            form_class.base_fields = _ShallowCopies(form_class.base_fields)
            cls._form_class = form_class
        return form_class


# Every filter has its `label` set (the parameter name): django-filter would otherwise work
# one out, translated, for each filter on every request.


class TicketFilter(LeanFilterSet):
    category = django_filters.ChoiceFilter(
        label="category", choices=Category.choices, help_text=_("Service category code.")
    )
    status = django_filters.ChoiceFilter(
        label="status", choices=Status.choices, help_text=_("Life-cycle state.")
    )
    area_type = django_filters.ChoiceFilter(
        label="area_type", choices=AreaType.choices, help_text=_("Area type of the order.")
    )
    # The flag the SLA engine sets with the first breach: the newest breached orders are one
    # scan of a partial index, however few and far back they lie.
    breached = FlagFilter(
        label="breached",
        field_name="breached",
        help_text=_("true: orders with at least one recorded breach; false: none."),
    )
    created_after = InstantFilter(
        label="created_after",
        field_name="created_at",
        lookup_expr="gte",
        help_text=_("Accepted at or after this instant (a bare date is midnight in Beijing)."),
    )
    created_before = InstantFilter(
        label="created_before",
        field_name="created_at",
        lookup_expr="lt",
        help_text=_("Accepted before this instant (a bare date is midnight in Beijing)."),
    )

    class Meta:
        fields: list[str] = []


class BreachFilter(LeanFilterSet):
    since = InstantFilter(
        label="since",
        field_name="occurred_at",
        lookup_expr="gte",
        help_text=_("Breaches that happened at or after this instant."),
    )
    until = InstantFilter(
        label="until",
        field_name="occurred_at",
        lookup_expr="lt",
        help_text=_("Breaches that happened before this instant."),
    )
    timer = django_filters.ChoiceFilter(
        label="timer", field_name="name", choices=TimerName.choices, help_text=_("Timer name.")
    )
    category = django_filters.ChoiceFilter(
        label="category", choices=Category.choices, help_text=_("Service category code.")
    )
    handling_unit = django_filters.CharFilter(
        label="handling_unit",
        field_name="handling_unit__code",
        max_length=40,
        help_text=_("Handling unit code."),
    )

    class Meta:
        fields: list[str] = []
