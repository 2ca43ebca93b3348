"""Submitting an admin change form as a browser would, and reading an object's log."""

from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from django import forms
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.db.models import Model
from django.utils import timezone


def form_data(form: forms.BaseForm, **changes: Any) -> dict[str, Any]:
    """What a browser sends back for an unchanged form, with `changes` applied."""
    data: dict[str, Any] = {}
    for bound in form:
        if bound.field.disabled:
            continue
        name, value = bound.html_name, changes.get(bound.name, bound.value())
        widget = bound.field.widget
        if isinstance(widget, RelatedFieldWidgetWrapper):
            widget = widget.widget
        if isinstance(widget, forms.SplitDateTimeWidget):
            local = timezone.localtime(value) if value else None
            data[f"{name}_0"] = local.strftime("%Y-%m-%d") if local else ""
            data[f"{name}_1"] = local.strftime("%H:%M:%S") if local else ""
        elif isinstance(widget, forms.NullBooleanSelect):
            data[name] = {True: "true", False: "false"}.get(value, "unknown")
        elif isinstance(widget, forms.CheckboxInput):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        else:
            data[name] = value
    return data


def admin_change(client, obj: Model, **changes: Any):
    """Open the object's change page in the admin and save it with `changes`."""
    url = f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    response = client.post(url, form_data(page.context["adminform"].form, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def entries_of(obj: Model) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("pk"))
