"""Reads of work orders, with the row-level rule of who may see what.

Agents, supervisors, centre managers and administrators see every order (a repeat call may
concern any order); crews and departments see the orders of the units they belong to. The
roles of each side are written in the permission matrix (`accounts.matrix.Rows.ORDERS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.matrix import SEES_EVERY_ORDER, SEES_UNIT_ORDERS
from accounts.roles import roles_of
from calls.models import Call
from customers.models import Customer
from matters.models import ImportantMatter
from matters.selectors import matters_in_force_for_area
from outages.models import Outage
from outages.selectors import (
    OutageFrequency,
    frequent_levels_current,
    outage_frequency_for_customer,
)
from sla.selectors import running_timers_prefetch
from tickets.models import OPEN_STATUSES, ReplyForm, Status, Ticket, TicketEvent


def ticket_visible_to(user) -> QuerySet[Ticket]:
    roles = roles_of(user)
    qs = Ticket.objects.all()
    if roles & SEES_EVERY_ORDER:
        return qs
    if roles & SEES_UNIT_ORDERS:
        return qs.filter(handling_unit__members=user)
    return qs.none()


def ticket_get_for_user(*, user, number: str) -> Ticket:
    """The order with this number if the user may see it; 404 otherwise (no hint it exists)."""
    ticket = (
        ticket_visible_to(user)
        .select_related(
            "customer",
            "customer__service_area",
            "subtype",
            "detail",
            "owner",
            "handling_unit",
            "handler",
            "service_area",
            "outage",
            "master",
            "call",
        )
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


# --- The agent console (call intake, My orders, the order page) -----------------------------
# Appended for the console; each page asks a fixed number of queries whatever the row count.

CARD_RECENT_ORDERS = 5
CARD_OPEN_ORDERS = 10
# A planned outage is shown on the card once it is this close (announcements run 3–7 days ahead).
OUTAGE_HORIZON = timedelta(days=7)
# A call the switch never reported hung up is not "live" forever.
LIVE_CALL_MAX_AGE = timedelta(hours=4)
MY_ORDERS_LIMIT = 300


def call_live_for_agent(*, user, now: datetime) -> Call | None:
    """The call ringing or in progress at this agent's position, newest first (or None).

    One query on the (agent, hangup_at) index; the console polls it every second.
    """
    return (
        Call.objects.filter(
            agent=user, hangup_at__isnull=True, ring_at__gte=now - LIVE_CALL_MAX_AGE
        )
        .order_by("-ring_at", "-id")
        .first()
    )


@dataclass
class CallerCard:
    """What the agent sees about the caller: who, open orders, recent orders, outages."""

    phone: str
    customer: Customer | None
    open_orders: list[Ticket] = field(default_factory=list)
    recent_orders: list[Ticket] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    # Frequent outages (频繁停电): the outages that reached the customer in the window.
    frequency: OutageFrequency | None = None
    # Important service matters (重要服务事项报备) in force for the customer's area: the
    # agent reads their script.
    matters: list[ImportantMatter] = field(default_factory=list)


def outage_list_covering(*, customer: Customer, now: datetime) -> list[Outage]:
    """Active and announced outages (not yet restored, starting within a week) reaching the customer.

    Outages at any moment number in the tens, so the candidates are read in one query (and
    their areas in a second) and matched here: portable between SQLite and PostgreSQL,
    where a JSON containment filter is not.
    """
    candidates = (
        Outage.objects.filter(restored_at__isnull=True, starts_at__lte=now + OUTAGE_HORIZON)
        .prefetch_related(Prefetch("service_areas", to_attr="area_list"))
        .order_by("starts_at")
    )
    covering = []
    for outage in candidates:
        area_ids = {area.pk for area in outage.area_list}
        if outage.covers(
            service_area_id=customer.service_area_id,
            feeder=customer.feeder,
            transformer_area=customer.transformer_area,
            area_ids=area_ids,
        ):
            covering.append(outage)
    return covering


def caller_card(*, customer: Customer | None, phone: str, now: datetime) -> CallerCard:
    """The card of the caller: the customer (when known), their open and recent orders, outages.

    Open orders are found by the customer or by the caller's number, so a repeat call from
    a number not on file still finds the order it made last time.
    """
    card = CallerCard(phone=phone, customer=customer)
    condition = Q(caller_phone=phone) if phone else Q(pk__in=[])
    if customer is not None:
        condition |= Q(customer_id=customer.pk)
    if phone or customer is not None:
        card.open_orders = list(
            Ticket.objects.filter(condition, status__in=OPEN_STATUSES)
            .select_related("subtype", "handling_unit")
            .prefetch_related(running_timers_prefetch())
            .order_by("-created_at", "-id")[:CARD_OPEN_ORDERS]
        )
    if customer is not None:
        open_ids = {t.pk for t in card.open_orders}
        card.recent_orders = [
            t
            for t in Ticket.objects.filter(customer_id=customer.pk)
            .select_related("subtype")
            .order_by("-created_at", "-id")[: CARD_RECENT_ORDERS + len(open_ids)]
            if t.pk not in open_ids
        ][:CARD_RECENT_ORDERS]
        card.outages = outage_list_covering(customer=customer, now=now)
        card.frequency = outage_frequency_for_customer(
            customer=customer, now=now, levels=frequent_levels_current()
        )
        card.matters = matters_in_force_for_area(service_area_id=customer.service_area_id, now=now)
    return card


def ticket_list_owned_by(*, user, limit: int = MY_ORDERS_LIMIT) -> list[Ticket]:
    """The agent's own orders still needing something: open, awaiting the return visit or
    archiving, oldest first, with their running timers (My orders)."""
    waiting = (*OPEN_STATUSES, Status.RESOLVED, Status.VISITED)
    return list(
        Ticket.objects.filter(owner=user, status__in=waiting)
        # An inquiry answered on the call needs no return visit; it is archived in bulk later.
        .exclude(category="inquiry", status=Status.RESOLVED, reply_form=ReplyForm.ON_CALL)
        # Orders resolved with their outage: the outage has one return visit, not one per call.
        .exclude(status=Status.RESOLVED, outage__isnull=False)
        .select_related("customer", "subtype", "handling_unit")
        .prefetch_related(running_timers_prefetch())
        .order_by("created_at", "id")[:limit]
    )


def ticket_list_for_unit_page(*, user, limit: int = 200) -> list[Ticket]:
    """The unit's open orders with their running timers (the crews' and departments' page)."""
    return list(
        ticket_list_for_unit_member(user=user).prefetch_related(running_timers_prefetch())[:limit]
    )


def ticket_get_for_page(*, user, number: str) -> Ticket:
    """The order with its timeline, hastenings and all its timers, for the order page."""
    ticket = ticket_get_for_user(user=user, number=number)
    ticket.timeline = list(
        TicketEvent.objects.filter(ticket=ticket).select_related("actor").order_by("at", "id")
    )
    ticket.hastening_list = list(
        ticket.hastenings.select_related("created_by").order_by("at", "id")
    )
    ticket.timer_list = list(ticket.timers.order_by("started_at", "id"))
    return ticket


def ticket_get_with_running_timers(*, user, number: str) -> Ticket | None:
    """The order just taken, with its running timers (the number read out after submit)."""
    return (
        ticket_visible_to(user)
        .select_related("handling_unit", "customer")
        .prefetch_related(running_timers_prefetch())
        .filter(number=number)
        .first()
    )
