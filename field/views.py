"""The crew pages for a phone and the department pages.

A crew member on site works from a phone: the unit's orders nearest deadline first with live
countdowns, and on each order one large button per step (accept, contacted the customer,
arrived on site, the result, hand back). A department handler answers complaints, tip-offs
and inquiries from the same kind of page with the reply and how it was given.

Each view resolves the order through field.selectors (404 outside the user's units), checks
the action with tickets.permissions (the same rule as the order page and the API: 409 when
the state refuses, 403 when the role does), validates with a form and calls the one service
of tickets.services the API calls too. Refused input is shown on its field with what was
typed kept (400).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.matrix import page
from field import selectors
from field.forms import NoteForm, ReplyTextForm, ResultForm
from privacy import rules as privacy_rules
from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from tickets import services
from tickets.forms import add_service_errors
from tickets.lifecycle import Action
from tickets.models import Ticket
from tickets.permissions import ticket_action_possible, ticket_actions_for


@dataclass(frozen=True)
class Step:
    """One button of the page: its form and the service it calls (kwargs from the form)."""

    form: type[forms.Form]
    service: Callable[..., Ticket]
    done: Any  # the message once recorded


@dataclass(frozen=True)
class Desk:
    """The crew pages or the department pages: their templates, URLs and steps in order."""

    name: str
    list_template: str
    order_template: str
    list_url: str
    order_url: str
    action_url: str
    steps: dict[str, Step] = field(default_factory=dict)


ACKNOWLEDGE = Step(NoteForm, services.ticket_acknowledge, gettext_lazy("Order accepted."))
CONTACT = Step(
    NoteForm, services.ticket_record_contact, gettext_lazy("Contact with the customer recorded.")
)
CREW = Desk(
    name="crew",
    list_template="field/crew_orders.html",
    order_template="field/crew_order.html",
    list_url="field:crew_orders",
    order_url="field:crew_order",
    action_url="field:crew_action",
    steps={
        Action.ACKNOWLEDGE: ACKNOWLEDGE,
        Action.CONTACT: CONTACT,
        Action.ARRIVE: Step(
            NoteForm, services.ticket_record_arrival, gettext_lazy("Arrival on site recorded.")
        ),
        # 回单: the result goes to the centre's check. `resolve` is the same move from on
        # site; the page offers it under the name the crews use.
        Action.HANDBACK: Step(
            ResultForm, services.ticket_handback, gettext_lazy("Result recorded and handed back.")
        ),
    },
)
DEPARTMENT = Desk(
    name="department",
    list_template="field/department_orders.html",
    order_template="field/department_order.html",
    list_url="field:department_orders",
    order_url="field:department_order",
    action_url="field:department_action",
    steps={
        Action.ACKNOWLEDGE: ACKNOWLEDGE,
        Action.CONTACT: CONTACT,
        # A complaint's or a tip-off's reply is handed back for the check (回单); an
        # inquiry's callback reply resolves it. One form, whichever the order allows.
        Action.HANDBACK: Step(
            ReplyTextForm, services.ticket_handback, gettext_lazy("Reply recorded and handed back.")
        ),
        Action.REPLY: Step(ReplyTextForm, services.ticket_reply, gettext_lazy("Reply recorded.")),
    },
)


def _get(request: HttpRequest, number: str) -> Ticket:
    return selectors.field_order_get(user=request.user, number=number, now=timezone.now())


def _offered(desk: Desk, request: HttpRequest, ticket: Ticket) -> list[str]:
    """The desk's steps this person may take on this order now, in the page's order."""
    allowed = set(ticket_actions_for(user=request.user, ticket=ticket))
    offered = [action for action in desk.steps if action in allowed]
    # Hand back and reply are one move for a complaint: one form, not two.
    if Action.HANDBACK in offered and Action.REPLY in offered:
        offered.remove(Action.REPLY)
    return offered


def _blank_form(desk: Desk, action: str, ticket: Ticket, now) -> forms.Form:
    step = desk.steps[action]
    if step.form is ResultForm:
        return ResultForm(initial=ResultForm.initial_for(ticket, now=now))
    return step.form()


def _list(desk: Desk, request: HttpRequest) -> HttpResponse:
    tickets = selectors.field_order_list(user=request.user, now=timezone.now())
    # One reverse() for the page, not one per card (numbers are digits: safe in a path).
    pattern = reverse(desk.order_url, args=["NUMBER"])
    for ticket in tickets:
        ticket.url = pattern.replace("NUMBER", ticket.number)
    return render(
        request,
        desk.list_template,
        {
            "tickets": tickets,
            "desk": desk.name,
            "more": len(tickets) >= selectors.FIELD_PAGE_LIMIT,
            "limit": selectors.FIELD_PAGE_LIMIT,
        },
    )


def _order(
    desk: Desk,
    request: HttpRequest,
    ticket: Ticket,
    *,
    bound: dict[str, forms.Form] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    actions = _offered(desk, request, ticket)
    bound = bound or {}
    return render(
        request,
        desk.order_template,
        {
            "ticket": ticket,
            "now": now,
            "desk": desk.name,
            "actions": actions,
            "steps": [(a, bound.get(a) or _blank_form(desk, a, ticket, now)) for a in actions],
            "personal": privacy_rules.order_personal_data(user=request.user, ticket=ticket),
            "action_error": error,
            "action_url": desk.action_url,
            "list_url": desk.list_url,
        },
        status=status,
    )


def _act(desk: Desk, request: HttpRequest, number: str, action: str) -> HttpResponse:
    ticket = _get(request, number)
    step = desk.steps.get(action)
    if step is None:
        raise Http404(action)
    if action not in ticket_actions_for(user=request.user, ticket=ticket):
        # As on the order page and the API: the order's state first (409), then the role (403).
        refused = 403 if ticket_action_possible(ticket=ticket, action=action) else 409
        error = _("This step is not open to you for the order in its current state.")
        return _order(desk, request, ticket, error=error, status=refused)
    form = step.form(request.POST)
    if form.is_valid():
        try:
            step.service(ticket=ticket, actor=Actor(user=request.user), **form.service_kwargs())
        except NotAllowed as refused:
            return _order(desk, request, ticket, error=refused.message, status=409)
        except DomainError as refused:
            add_service_errors(form, refused)
        else:
            messages.success(request, str(step.done))
            return redirect(desk.order_url, number=ticket.number)
    return _order(desk, request, ticket, bound={action: form}, status=400)


# --- The crew pages (a phone, 390 px wide) ------------------------------------------------


@page("field:crew_orders")
def crew_orders(request: HttpRequest) -> HttpResponse:
    """My unit's orders, nearest deadline first, with live countdowns."""
    return _list(CREW, request)


@page("field:crew_order")
def crew_order(request: HttpRequest, number: str) -> HttpResponse:
    """One order of my unit: what the customer said, the clocks, and the next step."""
    return _order(CREW, request, _get(request, number))


@page("field:crew_action")
def crew_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Accept, arrival on site, the result (回单) … one step, through its service."""
    return _act(CREW, request, number, action)


# --- The department pages -------------------------------------------------------------------


@page("field:department_orders")
def department_orders(request: HttpRequest) -> HttpResponse:
    """My department's orders with their reply countdowns, nearest deadline first."""
    return _list(DEPARTMENT, request)


@page("field:department_order")
def department_order(request: HttpRequest, number: str) -> HttpResponse:
    """One order of my department: the complaint, its reply clock and the reply form."""
    return _order(DEPARTMENT, request, _get(request, number))


@page("field:department_action")
def department_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Accept, the reply and how it was given (the hand-back) … one step, through its service."""
    return _act(DEPARTMENT, request, number, action)
