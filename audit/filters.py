"""The audit page's filters: type of data, action, person, Beijing dates, object."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import django_filters
from auditlog.models import LogEntry
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from audit.display import ACTIONS
from audit.registry import audited_models


def model_choices() -> list[tuple[str, str]]:
    return [
        (f"{model._meta.app_label}.{model._meta.model_name}", capfirst(model._meta.verbose_name))
        for model in audited_models()
    ]


ACTION_CHOICES = [
    (action, ACTIONS[action])
    for action in (LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.DELETE)
]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _day_start(day: date) -> datetime:
    # A supervisor's "27 November" is that day on the Beijing clock, 00:00 to 24:00; bounds
    # on the stored UTC instant (rather than a date of it) keep the timestamp index usable.
    return datetime.combine(day, time.min, tzinfo=timezone.get_default_timezone())


class LogEntryFilter(django_filters.FilterSet):
    model = django_filters.ChoiceFilter(
        label=_("Type of data"), choices=model_choices, method="filter_model"
    )
    action = django_filters.ChoiceFilter(label=_("Action"), choices=ACTION_CHOICES)
    user = django_filters.CharFilter(label=_("Changed by"), method="filter_user")
    date_from = django_filters.DateFilter(
        label=_("From (date)"), method="filter_date_from", widget=DATE_INPUT
    )
    date_to = django_filters.DateFilter(
        label=_("Until (date)"), method="filter_date_to", widget=DATE_INPUT
    )
    object = django_filters.CharFilter(label=_("Object name"), method="filter_object")
    object_id = django_filters.NumberFilter(label=_("Object id"), field_name="object_id")

    class Meta:
        model = LogEntry
        fields: list[str] = []

    def filter_model(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        app_label, _dot, model_name = value.partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model_name)

    def filter_user(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return queryset.filter(
            Q(actor__username__icontains=value)
            | Q(actor__first_name__icontains=value)
            | Q(actor__last_name__icontains=value)
        )

    def filter_date_from(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(timestamp__gte=_day_start(value))

    def filter_date_to(self, queryset: QuerySet, name: str, value: date) -> QuerySet:
        return queryset.filter(timestamp__lt=_day_start(value + timedelta(days=1)))

    def filter_object(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(object_repr__icontains=value.strip())
