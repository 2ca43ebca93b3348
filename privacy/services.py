"""Writes of the disclosure log: every reveal on an order page and every export.

The callers (the order page's reveal, the dashboard's downloads) call these in the request
that shows or sends the data, so a disclosure and its record go together.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from privacy.models import DisclosureLog
from privacy.rules import Field, may_reveal


@transaction.atomic
def disclosure_log_reveal(
    *, user, ticket, field: str, now: datetime | None = None
) -> DisclosureLog:
    """Record that `user` had `field` of `ticket` shown in full (the order page's button).

    Refuses (PermissionDenied: the page answers 403) anyone the rules do not allow, so nothing
    is shown and nothing recorded.
    """
    if field not in Field.values or not may_reveal(user=user, ticket=ticket, field=field):
        raise PermissionDenied
    return DisclosureLog.objects.create(
        at=now or timezone.now(),
        kind=DisclosureLog.Kind.REVEAL,
        user=user,
        username=user.get_username(),
        field=field,
        in_full=True,
        ticket=ticket,
        ticket_number=ticket.number or "",
    )


@transaction.atomic
def disclosure_log_export(
    *,
    user,
    export: str,
    rows: int,
    query: str = "",
    field: str = "",
    in_full: bool = False,
    now: datetime | None = None,
) -> DisclosureLog:
    """Record one export file: who, when, which export (its file name and filters), how many
    rows, and the personal data its rows hold (`field`, masked unless `in_full`)."""
    return DisclosureLog.objects.create(
        at=now or timezone.now(),
        kind=DisclosureLog.Kind.EXPORT,
        user=user,
        username=user.get_username(),
        field=field,
        in_full=in_full,
        export=export[:200],
        query=query[:500],
        rows=rows,
    )
