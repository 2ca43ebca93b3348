"""Vendor-neutral pieces of the set-based SQL the scanner and the notifications run.

The scanner writes thousands of rows per pass in a handful of INSERT … SELECT and UPDATE
statements (a batch job: set-based SQL, not a query per row); these helpers let the same
text run on PostgreSQL and on the embedded SQLite."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import translation

from customers.models import HandlingUnit
from sla.models import Breach, Notification, Timer, TimerName
from tickets.models import Ticket


def sql_time(value: datetime) -> Any:
    """A datetime as raw SQL needs it (SQLite stores naive UTC text; PostgreSQL takes it as is)."""
    return connection.ops.adapt_datetimefield_value(value)


def ids_in(column: str, ids: Sequence[int]) -> tuple[str, list[Any]]:
    """``column IN ids`` with a single parameter, however many ids (PostgreSQL / SQLite)."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(ids)]
    return f"{column} IN (SELECT value FROM json_each(%s))", [json.dumps(list(ids))]


def case_by_name(column: str, texts: dict[str, str]) -> tuple[str, list[Any]]:
    """A SQL CASE giving a (translated) text per timer name, with the texts as parameters."""
    sql = " ".join("WHEN %s THEN %s" for _name in texts)
    params: list[Any] = []
    for name, text in texts.items():
        params += [name, text]
    return f"CASE {column} {sql} ELSE '' END", params


def tables() -> dict[str, str]:
    return {
        "timer": Timer._meta.db_table,
        "breach": Breach._meta.db_table,
        "notification": Notification._meta.db_table,
        "ticket": Ticket._meta.db_table,
        "unit": HandlingUnit._meta.db_table,
        "supervisors": HandlingUnit.supervisors.through._meta.db_table,
        "members": HandlingUnit.members.through._meta.db_table,
    }


def message_parts(template: str) -> dict[str, tuple[str, str]]:
    """Timer name → (text before, text after) the order number, in the default language.

    Notifications are stored as text once, in the language of the centre, and must be
    built inside SQL for thousands of rows at a time.
    """
    parts = {}
    with translation.override(settings.LANGUAGE_CODE):
        for name, label in TimerName.choices:
            text = template % {"timer": str(label), "number": "\x00"}
            before, _sep, after = text.partition("\x00")
            parts[name] = (before, after)
    return parts
