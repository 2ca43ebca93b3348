"""Reads of the audit trail, for the supervisors' page."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.db.models import QuerySet


def audit_entries() -> QuerySet[LogEntry]:
    """Every recorded change, newest first, with what the page shows of it in the same query."""
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
