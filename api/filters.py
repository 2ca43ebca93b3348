"""Query-string filters of the list endpoints (django-filter).

A bad value (an unknown category, a date that is not a date) answers 400 with a message
for that parameter; it never reaches the database.
"""

from __future__ import annotations

from datetime import datetime, time

import django_filters
from django import forms
from django.db.models import QuerySet
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


# Every filter has its `label` set (the parameter name): django-filter would otherwise work
# one out, translated, for each filter on every request — a quarter of a list request's time.


class TicketFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(
        label="category", choices=Category.choices, help_text=_("Service category code.")
    )
    status = django_filters.ChoiceFilter(
        label="status", choices=Status.choices, help_text=_("Life-cycle state.")
    )
    area_type = django_filters.ChoiceFilter(
        label="area_type", choices=AreaType.choices, help_text=_("Area type of the order.")
    )
    breached = FlagFilter(
        label="breached",
        method="filter_breached",
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

    def filter_breached(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        # The flag the SLA engine sets with the first breach: the newest breached orders
        # are one scan of a partial index, however few and far back they lie.
        return queryset.filter(breached=value)


class BreachFilter(django_filters.FilterSet):
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
