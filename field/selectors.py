"""Reads of the crew and department pages: the orders of the units the person belongs to.

The row rule here is membership, whatever the role: a supervisor who sees every order on the
order page sees on these pages only the units they are a member of. An order of another unit
is not there (404), so a phone left on a table shows no one else's customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from sla.models import TimerName
from tickets.models import UNIT_LIST_STATUSES, Category, Status, Ticket, next_deadline
from tickets.permissions import unit_ids_of

# A page a crew scrolls on a phone: the nearest deadlines are what matters.
FIELD_PAGE_LIMIT = 50


@dataclass(frozen=True)
class Deadline:
    """One running clock of an order, as its copy on the order says (`Ticket.deadlines`),
    ready to print: the page draws up to FIELD_PAGE_LIMIT orders on a phone's budget, so
    the labels and times are worked out here once rather than by template filters."""

    name: str
    label: str
    iso: str  # Beijing offset, what the countdown script counts from
    due_at: datetime
    overdue: bool

    @property
    def hm(self) -> str:
        return self.due_at.strftime("%H:%M")

    @property
    def day_hm(self) -> str:
        return self.due_at.strftime("%m-%d %H:%M")


def deadlines_of(ticket: Ticket, *, now: datetime, labels: dict[str, str]) -> list[Deadline]:
    """The order's running deadlines, soonest first, read from its copy (no timer query).
    `labels`: timer name → its name in the active language (timer_labels())."""
    deadlines = []
    for name, iso in (ticket.deadlines or {}).items():
        due = parse_datetime(iso) if isinstance(iso, str) else None
        if due is not None:
            label = labels.get(name, name)
            deadlines.append(Deadline(name, label, iso, due, overdue=due <= now))
    return sorted(deadlines, key=lambda d: d.due_at)


def timer_labels() -> dict[str, str]:
    """Timer name → its name in the active language, translated once per page."""
    return {name: str(label) for name, label in TimerName.choices}


def _ready(tickets: list[Ticket], now: datetime) -> None:
    """What each order shows, worked out once per page (labels translated once)."""
    labels = timer_labels()
    statuses = {value: str(label) for value, label in Status.choices}
    categories = {value: str(label) for value, label in Category.choices}
    for ticket in tickets:
        ticket.deadline_list = deadlines_of(ticket, now=now, labels=labels)
        ticket.status_label = statuses.get(ticket.status, ticket.status)
        ticket.category_label = categories.get(ticket.category, ticket.category)


def field_order_list(*, user, now: datetime, limit: int = FIELD_PAGE_LIMIT) -> list[Ticket]:
    """The orders on the lists of the user's units, nearest running deadline first (orders
    with no clock running last, oldest first), each with `deadline_list`.

    One query for the rows, deadlines included: an ordered scan of the index
    `ticket_unit_deadline_idx` on (unit, next deadline, id) that stops after the page,
    however many orders the unit has.
    """
    units = unit_ids_of(user)
    if not units:
        return []
    tickets = list(
        Ticket.objects.filter(handling_unit_id__in=sorted(units), status__in=UNIT_LIST_STATUSES)
        .select_related("subtype", "customer")
        .annotate(next_due=next_deadline())
        .order_by("next_due", "id")[:limit]
    )
    _ready(tickets, now)
    return tickets


def field_order_get(*, user, number: str, now: datetime) -> Ticket:
    """One order of the user's units, in any state (a crew looks back at what it handed
    back); 404 for any other, with no hint it exists."""
    units = unit_ids_of(user)
    ticket = (
        Ticket.objects.select_related("subtype", "detail", "customer", "handling_unit")
        .filter(number=number, handling_unit_id__in=sorted(units))
        .first()
        if units
        else None
    )
    if ticket is None:
        raise Http404(_("No such order among your unit's orders."))
    _ready([ticket], now)
    return ticket
