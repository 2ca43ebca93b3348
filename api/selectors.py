"""Reads behind the endpoints, with the row-level rule of who sees what.

An integration client with the read scope sees every order (the IVR reads out the state of
any order a caller names); a signed-in person sees what `tickets.selectors.ticket_visible_to`
lets them see. Every list is built so a page costs a fixed number of queries.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from api.models import ApiClient
from sla.models import Breach
from tickets.models import Ticket, TicketEvent
from tickets.selectors import ticket_visible_to


def one_or_none(queryset: QuerySet):
    """The row of a lookup by a unique key, or None: like .first() without the ORDER BY it
    adds, which costs query building on every request and can mislead the planner."""
    return next(iter(queryset.order_by()[:1]), None)


def _sees_every_order(client: ApiClient | None) -> bool:
    # An integration client takes and reads orders for the whole desk; a person sees what
    # their role and unit allow (tickets.permissions).
    return client is not None


def ticket_visible_to_requester(*, client: ApiClient | None, user) -> QuerySet[Ticket]:
    if _sees_every_order(client):
        return Ticket.objects.all()
    return ticket_visible_to(user)


# A list row: answer key → the order's column or joined code it shows. The one place a
# field is added to the list (and TicketListItemSerializer's fields, for the schema).
LIST_ROW: dict[str, str] = {
    "number": "number",
    "category": "category",
    "subtype": "subtype__code",
    "channel": "channel",
    "status": "status",
    "caller_phone": "caller_phone",
    "customer_account": "customer__account_number",
    "address": "address",
    "area_type": "area_type",
    "handling_unit": "handling_unit__code",
    "supervised": "supervised",
    "to_complete": "to_complete",
    "deadlines": "deadlines",
    "created_at": "created_at",
    "updated_at": "updated_at",
}


def ticket_rows_for_api(*, client: ApiClient | None, user) -> QuerySet:
    """Orders as plain rows (dicts) of what a list shows, for cursor pages: one query per page,
    for integration clients and people alike (the deadlines are the order's copy of its
    running clocks, `Ticket.deadlines`)."""
    return ticket_visible_to_requester(client=client, user=user).values("id", *LIST_ROW.values())


def ticket_get_for_api(
    *, client: ApiClient | None, user, number: str, after_action: bool = False
) -> Ticket:
    """The order with its running timers, breaches and timeline; 404 when not visible.

    `after_action`: the answer to an action the requester has just taken on the order, which
    it could see a moment ago. A unit that re-dispatched an order to another unit (转派) no
    longer sees it, yet gets the order as it now stands, not a 404 for its own success.

    Three queries whatever the length of the timeline.
    """
    rows = (
        Ticket.objects.all()
        if after_action
        else ticket_visible_to_requester(client=client, user=user)
    )
    ticket = one_or_none(
        rows.select_related("customer", "subtype", "detail", "handling_unit", "handler", "owner")
        .prefetch_related(
            Prefetch(
                "breaches",
                queryset=Breach.objects.select_related("handling_unit").order_by(
                    "occurred_at", "id"
                ),
                to_attr="breach_list",
            ),
            Prefetch(
                "events",
                queryset=TicketEvent.objects.select_related("actor").order_by("at", "id"),
                to_attr="timeline",
            ),
        )
        .filter(number=number)
    )
    if ticket is None:
        raise Http404(number)
    return ticket


def ticket_get_for_action(*, client: ApiClient | None, user, number: str) -> Ticket:
    """The order an action is about (the service re-reads it under a row lock); 404 when not visible."""
    ticket = one_or_none(
        ticket_visible_to_requester(client=client, user=user).filter(number=number)
    )
    if ticket is None:
        raise Http404(number)
    return ticket


def breach_list_for_api(*, client: ApiClient | None, user) -> QuerySet[Breach]:
    """Recorded breaches, newest first, with the order number and unit code in the same query."""
    qs = Breach.objects.select_related("ticket", "handling_unit")
    if client is None:
        visible = ticket_visible_to(user)
        # Supervisors see every order: no "ticket IN (all two million orders)" semi-join then.
        if visible.query.has_filters():
            qs = qs.filter(ticket__in=visible)
    return qs
