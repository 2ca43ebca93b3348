"""Reads of the audit trail, for the supervisors' page."""

from __future__ import annotations

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.roles import Role, has_role


def audit_check_access(user) -> None:
    """Supervisors and administrators read the audit trail; everyone else gets 403."""
    if not has_role(user, Role.SUPERVISOR, Role.ADMIN):
        raise PermissionDenied


def audit_entries() -> QuerySet[LogEntry]:
    """Every recorded change, newest first, with what the page shows of it in the same query."""
    return LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp", "-pk")
