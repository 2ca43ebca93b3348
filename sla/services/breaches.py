"""Breaches: recorded once per timer, followed up once, acknowledged by a supervisor.

The breach row is the SLA engine's record; what a breach does to the order (its timeline
line, the supervised mark, the breached flag) is written by `tickets.services`, which
claims the breaches not yet followed up (`breaches_claim_for_followup`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from servicedesk.errors import DomainError
from sla.models import Breach, Notification, NotificationKind
from sla.services.notifications import notify_supervisors
from sla.services.statements import ids_in, sql_time, tables

# The follow-up of a storm of breaches is taken in batches of this many.
FOLLOWUP_BATCH: int = getattr(settings, "SLA_FOLLOWUP_BATCH", 500)


def breaches_record(*, timer_ids: Sequence[int], now: datetime) -> list[int]:
    """Insert the breach rows of timers just claimed (``breached_at`` set by the caller's
    conditional write) and notify the unit supervisors (ladder level 1): two set-based
    statements, whatever the number of breaches. What a breach does to its order is written
    by the follow-up (``tickets.services.tickets_breach_followup``).

    ``ON CONFLICT DO NOTHING`` on the one-to-one timer column is the second guard: a breach
    row can exist only once per timer even if two writers got this far.
    """
    if not timer_ids:
        return []
    t = tables()
    where, params = ids_in("t.id", timer_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {t["breach"]} (ticket_id, timer_id, name, occurred_at, recorded_at, category,
                                       area_type, handling_unit_id, owner_id, acknowledgement)
            SELECT t.ticket_id, t.id, t.name, t.due_at, %s, t.category, t.area_type,
                   t.handling_unit_id, t.owner_id, ''
            FROM {t["timer"]} t
            WHERE {where} AND t.breached_at IS NOT NULL
            ON CONFLICT (timer_id) DO NOTHING
            RETURNING id
            """,
            [sql_time(now), *params],
        )
        breach_ids = [row[0] for row in cursor.fetchall()]
    if not breach_ids:
        return []
    notify_supervisors(ids=breach_ids, levels_up=0, kind=NotificationKind.BREACH, now=now)
    return breach_ids


def breach_email_send(*, breach_ids: Iterable[int]) -> int:
    """E-mail each breach to the unit's supervisors who have an address (SLA_BREACH_EMAIL)."""
    messages = []
    sender = getattr(settings, "DEFAULT_FROM_EMAIL", None)
    with translation.override(settings.LANGUAGE_CODE):
        breaches = (
            Breach.objects.filter(pk__in=list(breach_ids))
            .select_related("ticket", "handling_unit")
            .prefetch_related("handling_unit__supervisors")
        )
        for breach in breaches:
            unit = breach.handling_unit
            if unit is None:
                continue
            addresses = [u.email for u in unit.supervisors.all() if u.email]
            if not addresses:
                continue
            subject = _("%(timer)s time limit breached: order %(number)s") % {
                "timer": breach.get_name_display(),
                "number": breach.ticket.number,
            }
            body = _("Due at %(due)s (Beijing time). Unit: %(unit)s.") % {
                "due": timezone.localtime(breach.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                "unit": unit.name,
            }
            messages.append((subject, body, sender, addresses))
    return send_mass_mail(messages, fail_silently=True) if messages else 0


def breaches_claim_for_followup(*, limit: int) -> list[Breach]:
    """Up to ``limit`` breaches not yet followed up, oldest first, locked for the caller's
    transaction. Rows another worker holds are skipped, so workers share a backlog and none
    is followed up twice."""
    return list(
        Breach.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(followed_up_at__isnull=True)
        .select_related("ticket")
        .order_by("id")[:limit]
    )


def breaches_mark_followed_up(*, breach_ids: Sequence[int], now: datetime) -> None:
    Breach.objects.filter(pk__in=list(breach_ids)).update(followed_up_at=now)
    if settings.SLA_BREACH_EMAIL:
        transaction.on_commit(lambda ids=list(breach_ids): breach_email_send(breach_ids=ids))


def breach_acknowledge(*, breach: Breach, user: Any, comment: str, now: datetime) -> Breach:
    """A supervisor acknowledges a breach with a comment (on the breach list). The breach's
    notifications count as read for everybody. Inside the caller's transaction
    (`tickets.services.ticket_breach_acknowledge`, which puts it on the timeline)."""
    if not (comment or "").strip():
        message = _("Write a comment on the breach.")
        raise DomainError(message, field_errors={"comment": [message]})
    changed = Breach.objects.filter(pk=breach.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=user, acknowledgement=comment.strip()
    )
    if not changed:
        raise DomainError(_("This breach has already been acknowledged."))
    Notification.objects.filter(breach_id=breach.pk, read_at__isnull=True).update(read_at=now)
    breach.refresh_from_db()
    return breach
