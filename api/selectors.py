"""Reads behind the endpoints, with the row-level rule of who sees what.

An integration client with the read scope sees every order (the IVR reads out the state of
any order a caller names); a signed-in person sees what `tickets.selectors.ticket_visible_to`
lets them see. Every list is built so a page costs a fixed number of queries.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from api.models import ApiClient
from api.serializers import LIST_ROW_FIELDS
from sla.models import Breach
from sla.selectors import running_timers_prefetch
from tickets.models import Ticket, TicketEvent
from tickets.selectors import ticket_visible_to


def ticket_visible_to_requester(*, client: ApiClient | None, user) -> QuerySet[Ticket]:
    if client is not None:
        return Ticket.objects.all()
    return ticket_visible_to(user)


def ticket_list_for_api(*, client: ApiClient | None, user) -> QuerySet[Ticket]:
    """Orders with what a list row shows: one query for the page (only the columns a row
    shows, of 60), one for the running timers."""
    return (
        ticket_visible_to_requester(client=client, user=user)
        .select_related("customer", "subtype", "handling_unit")
        .only(*LIST_ROW_FIELDS, "id", "customer_id", "subtype_id", "handling_unit_id")
        .prefetch_related(running_timers_prefetch())
    )


def ticket_get_for_api(*, client: ApiClient | None, user, number: str) -> Ticket:
    """The order with its running timers, breaches and timeline; 404 when not visible.

    Four queries whatever the length of the timeline.
    """
    ticket = (
        ticket_visible_to_requester(client=client, user=user)
        .select_related("customer", "subtype", "detail", "handling_unit", "handler", "owner")
        .prefetch_related(
            running_timers_prefetch(),
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
        .first()
    )
    if ticket is None:
        raise Http404(number)
    return ticket


def ticket_get_for_action(*, client: ApiClient | None, user, number: str) -> Ticket:
    """The order an action is about (the service re-reads it under a row lock); 404 when not visible."""
    ticket = ticket_visible_to_requester(client=client, user=user).filter(number=number).first()
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
