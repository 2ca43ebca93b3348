"""Reads of work orders, with the row-level rule of who may see what.

Agents and supervisors see every order (a repeat call may concern any order);
crews and departments see the orders of the units they belong to.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.roles import Role, roles_of
from tickets.models import OPEN_STATUSES, Ticket


def ticket_visible_to(user) -> QuerySet[Ticket]:
    roles = roles_of(user)
    qs = Ticket.objects.all()
    if roles & {Role.AGENT, Role.SUPERVISOR, Role.ADMIN}:
        return qs
    if roles & {Role.CREW, Role.DEPARTMENT}:
        return qs.filter(handling_unit__members=user)
    return qs.none()


def ticket_get_for_user(*, user, number: str) -> Ticket:
    """The order with this number if the user may see it; 404 otherwise (no hint it exists)."""
    ticket = (
        ticket_visible_to(user)
        .select_related("customer", "customer__service_area", "subtype", "detail", "owner",
                        "handling_unit", "handler", "service_area", "outage", "master", "call")
        .filter(number=number)
        .first()
    )
    if ticket is None:
        raise Http404(number)
    return ticket


def ticket_list_for_unit_member(*, user) -> QuerySet[Ticket]:
    """Open orders of the user's units, oldest first: what a crew or department works on."""
    return (
        Ticket.objects.filter(handling_unit__members=user, status__in=OPEN_STATUSES)
        .select_related("customer", "subtype", "handling_unit")
        .order_by("created_at", "id")
    )


def ticket_open_for_caller(*, customer_id: int | None, phone: str) -> QuerySet[Ticket]:
    """The caller's open orders (by customer or by caller number) for the repeat-call check."""
    qs = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if customer_id:
        return qs.filter(customer_id=customer_id).order_by("-created_at")
    return qs.filter(caller_phone=phone).order_by("-created_at")
