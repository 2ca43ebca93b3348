"""How a log entry reads on the supervisors' page: field names and values in words.

django-auditlog stores each change as JSON, field name → [old, new] (or, for a
many-to-many field, the objects added or removed). Turning that into 「时限: 40 → 45」 needs
only the model's own metadata — verbose names, choices, field types — and never the
database: a foreign key was stored as the name of its row at the time of the change
(AUDITLOG_USE_FK_STRING_REPRESENTATION), so a page of entries costs the same queries
however many entries and fields it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import Role
from api.models import Scope
from tickets.models import Category

ACTIONS = {
    LogEntry.Action.CREATE: gettext_lazy("Created"),
    LogEntry.Action.UPDATE: gettext_lazy("Changed"),
    LogEntry.Action.DELETE: gettext_lazy("Deleted"),
    LogEntry.Action.ACCESS: gettext_lazy("Viewed"),
}

# Codes kept in fields without choices of their own, shown by their names.
VALUE_LABELS: dict[tuple[str, str], dict[str, Any]] = {
    ("sla.slarule", "category"): dict(Category.choices),
    ("customers.handlingunit", "categories"): dict(Category.choices),
    ("customers.routingrule", "category"): dict(Category.choices),
    ("api.apiclient", "scopes"): dict(Scope.choices),
    # Roles are groups named by their codes ("agent", "supervisor").
    ("auth.user", "groups"): dict(Role.choices),
    ("auth.group", "name"): dict(Role.choices),
}

EMPTY = "—"


@dataclass(frozen=True)
class Change:
    """One changed field: old → new; or, for a many-to-many field, what was added/removed."""

    label: str
    old: str = ""
    new: str = ""
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def is_set(self) -> bool:
        return bool(self.added or self.removed)


@dataclass(frozen=True)
class EntryRow:
    entry: LogEntry
    model_key: str  # "sla.slarule", the page's filter value
    model_label: str
    actor: str
    action: str
    changes: list[Change]


def entry_row(entry: LogEntry) -> EntryRow:
    """The entry as the page shows it (entry.content_type and entry.actor select_related)."""
    model = entry.content_type.model_class()
    key = f"{entry.content_type.app_label}.{entry.content_type.model}"
    return EntryRow(
        entry=entry,
        model_key=key,
        model_label=capfirst(model._meta.verbose_name) if model else key,
        actor=actor_label(entry),
        action=str(ACTIONS.get(entry.action, entry.action)),
        changes=entry_changes(entry, model, key),
    )


def actor_label(entry: LogEntry) -> str:
    if entry.actor is not None:
        name = entry.actor.get_full_name()
        return f"{name} ({entry.actor.username})" if name else entry.actor.username
    if entry.actor_email:  # the person's account was deleted since
        return entry.actor_email
    # Management commands, migrations, the Celery worker: nobody signed in.
    return _("System (no signed-in person)")


def entry_changes(entry: LogEntry, model: type[models.Model] | None, key: str) -> list[Change]:
    """The entry's changes in the order of the model's fields (auditlog stores them unordered)."""
    order = {f.name: i for i, f in enumerate(model._meta.get_fields())} if model else {}
    changes = []
    for name, values in sorted(
        (entry.changes or {}).items(), key=lambda i: order.get(i[0], len(order))
    ):
        model_field = _field(model, name)
        if model_field is False or (model_field is not None and model_field.primary_key):
            continue  # rows pointing at this one; the id of a new row (the object column has it)
        label = capfirst(model_field.verbose_name) if model_field is not None else name
        labels = VALUE_LABELS.get((key, name))
        if isinstance(values, dict) and values.get("type") == "m2m":
            objects = [_label(str(item), labels) for item in values.get("objects", [])]
            if values.get("operation") == "add":
                changes.append(Change(label=label, added=objects))
            else:
                changes.append(Change(label=label, removed=objects))
            continue
        old, new = values if isinstance(values, list) and len(values) == 2 else (None, values)
        old_text, new_text = (
            value_text(old, model_field, labels),
            value_text(new, model_field, labels),
        )
        if old_text != new_text:  # e.g. a new row's blank note: nothing → blank
            changes.append(Change(label=label, old=old_text, new=new_text))
    return changes


def value_text(value: Any, model_field: models.Field | None, labels: dict | None = None) -> str:
    """A stored value in words: names for codes, 是/否 for flags, Beijing time for instants."""
    if value is None or value == "" or value == "None":
        return EMPTY
    if isinstance(value, list):
        return "、".join(_label(str(item), labels) for item in value) or EMPTY
    if isinstance(value, bool) or isinstance(model_field, models.BooleanField):
        truth = value if isinstance(value, bool) else str(value) == "True"
        return _("Yes") if truth else _("No")
    if model_field is not None and model_field.choices and not model_field.is_relation:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.DateTimeField) and isinstance(value, str):
        return _beijing(value)
    return _label(str(value), labels)


def _beijing(value: str) -> str:
    # auditlog keeps instants as naive UTC text; supervisors read the Beijing clock.
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return value
    if timezone.is_naive(instant):
        instant = instant.replace(tzinfo=UTC)
    return timezone.localtime(instant).strftime("%Y-%m-%d %H:%M:%S")


def _label(value: str, labels: dict | None) -> str:
    return str(labels.get(value, value)) if labels else value


def _field(model: type[models.Model] | None, name: str) -> models.Field | None | bool:
    """The model's field of that name; None when unknown; False for a reverse relation."""
    if model is None:
        return None
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else False
