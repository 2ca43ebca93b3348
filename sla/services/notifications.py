"""In-app notifications: what the scanner sends to supervisors and handlers, and what a
hastening tells the handler. Written set-based where a storm can send thousands at once."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from customers.models import HandlingUnit
from sla.models import Breach, Notification, NotificationKind, TimerName
from sla.services.statements import case_by_name, ids_in, message_parts, sql_time, tables
from tickets.models import Ticket


def notify_supervisors(
    *, ids: Sequence[int], key: str = "b.id", levels_up: int, kind: str, now: datetime
) -> int:
    """Notify, for each breach, the supervisors of the unit ``levels_up`` steps above its
    handling unit — in one INSERT … SELECT.

    An order not yet dispatched has no handling unit (a dispatch breach): the owner agent's
    call-centre unit stands in, else the first active call-centre unit.
    """
    t = tables()
    if kind == NotificationKind.BREACH:
        template = _("%(timer)s time limit breached: order %(number)s")
    else:
        template = _("Escalated: %(timer)s time limit still breached on order %(number)s")
    parts = message_parts(template)
    before_sql, before_params = case_by_name("b.name", {n: p[0] for n, p in parts.items()})
    after_sql, after_params = case_by_name("b.name", {n: p[1] for n, p in parts.items()})
    fallback = (
        HandlingUnit.objects.filter(kind=HandlingUnit.Kind.CALL_CENTRE, is_active=True)
        .order_by("code")
        .values_list("pk", flat=True)
        .first()
    )
    joins = [
        f"""JOIN {t["unit"]} u0 ON u0.id = COALESCE(
                b.handling_unit_id,
                (SELECT cu.id FROM {t["members"]} m JOIN {t["unit"]} cu ON cu.id = m.handlingunit_id
                 WHERE m.user_id = b.owner_id AND cu.kind = %s AND cu.is_active
                 ORDER BY cu.code LIMIT 1),
                %s)"""
    ]
    join_params: list[Any] = [HandlingUnit.Kind.CALL_CENTRE.value, fallback]
    for level in range(1, levels_up + 1):
        joins.append(f"JOIN {t['unit']} u{level} ON u{level}.id = u{level - 1}.parent_id")
    where, params = ids_in(key, ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {t["notification"]} (recipient_id, ticket_id, breach_id, kind, message, created_at)
            SELECT DISTINCT s.user_id, b.ticket_id, b.id, %s, {before_sql} || tk.number || {after_sql}, %s
            FROM {t["breach"]} b
            JOIN {t["ticket"]} tk ON tk.id = b.ticket_id
            {" ".join(joins)}
            JOIN {t["supervisors"]} s ON s.handlingunit_id = u{levels_up}.id
            WHERE {where}
            """,
            [kind, *before_params, *after_params, sql_time(now), *join_params, *params],
        )
        return cursor.rowcount


def notify_at_risk(
    rows: list[tuple[int, int, str, int | None, int | None]], *, now: datetime
) -> int:
    """At-risk warnings go to the handler first: the member who acknowledged the order; before
    anyone has, the unit's members; before dispatch, the owner agent (first contact)."""
    if not rows:
        return 0
    ticket_ids = {row[1] for row in rows}
    tickets = {
        pk: (number, handler_id)
        for pk, number, handler_id in Ticket.objects.filter(pk__in=ticket_ids).values_list(
            "pk", "number", "handler_id"
        )
    }
    unit_ids = {row[4] for row in rows if row[4] is not None}
    members: dict[int, list[int]] = {}
    for unit_id, user_id in HandlingUnit.members.through.objects.filter(
        handlingunit_id__in=unit_ids
    ).values_list("handlingunit_id", "user_id"):
        members.setdefault(unit_id, []).append(user_id)
    with translation.override(settings.LANGUAGE_CODE):
        labels = dict(TimerName.choices)
        notifications = []
        for _timer_id, ticket_id, name, owner_id, unit_id in rows:
            number, handler_id = tickets[ticket_id]
            if handler_id:
                recipients = [handler_id]
            elif unit_id and name != TimerName.DISPATCH:
                recipients = members.get(unit_id, [])
            else:
                recipients = [owner_id] if owner_id else []
            message = _("%(timer)s time limit at risk: order %(number)s") % {
                "timer": labels[name],
                "number": number,
            }
            notifications += [
                Notification(
                    recipient_id=user_id,
                    ticket_id=ticket_id,
                    kind=NotificationKind.AT_RISK,
                    message=message[:300],
                    created_at=now,
                )
                for user_id in recipients
            ]
    Notification.objects.bulk_create(notifications, batch_size=1000)
    return len(rows)


def notification_send(
    *,
    recipients: Iterable[Any],
    kind: str,
    message: str,
    ticket: Ticket | None = None,
    breach: Breach | None = None,
    now: datetime | None = None,
) -> list[Notification]:
    """Send one in-app notification to each recipient (users or user ids), in one INSERT."""
    if kind not in NotificationKind:
        raise ValueError(f"unknown notification kind {kind!r}")
    now = now or timezone.now()
    user_ids = sorted({getattr(r, "pk", r) for r in recipients if r is not None})
    return Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=user_id,
                ticket=ticket,
                breach=breach,
                kind=kind,
                message=message[:300],
                created_at=now,
            )
            for user_id in user_ids
        ]
    )


def notification_send_for_hastening(
    *, ticket: Ticket, now: datetime | None = None
) -> list[Notification]:
    """A caller hastened the order (催办): tell its handler, or the unit's members before anyone
    has acknowledged it, or the owner agent while it is not yet dispatched."""
    if ticket.handler_id:
        recipients: list[Any] = [ticket.handler_id]
    elif ticket.handling_unit_id:
        recipients = list(
            HandlingUnit.members.through.objects.filter(
                handlingunit_id=ticket.handling_unit_id
            ).values_list("user_id", flat=True)
        )
    else:
        recipients = [ticket.owner_id]
    message = _("The caller hastened order %(number)s") % {"number": ticket.number}
    return notification_send(
        recipients=recipients,
        kind=NotificationKind.HASTENING,
        message=message,
        ticket=ticket,
        now=now,
    )


def notification_mark_read(
    *, user: Any, ids: Iterable[int] | None = None, now: datetime | None = None
) -> int:
    """Mark the user's notifications read (the given ones, or all); returns how many."""
    now = now or timezone.now()
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=now)


# --- Rules ---------------------------------------------------------------------------------------

RULE_TERMS = (
    "amount",
    "unit",
    "start_event",
    "stop_event",
    "at_risk_share",
    "category",
    "subtype",
    "area_type",
    "important",
    "is_active",
    "name",
)
