"""The return-visit pages: the queue, one order's visit, one outage's visit.

Thin: each resolves its object through a selector, validates the form, calls one service
of `visits.services` and renders.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.matrix import page
from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from tickets.forms import add_service_errors
from tickets.models import Category
from visits import selectors, services
from visits.forms import UnreachedForm, VisitForm


@page("visits:queue")
def queue(request: HttpRequest) -> HttpResponse:
    """Resolved orders and ended outages waiting for their return visit, nearest deadline first."""
    queue = selectors.visit_queue()
    # Links and labels worked out once, not once per row: the page lists up to 50 lines.
    order_url = reverse("visits:ticket", args=["0"])[:-2]
    outage_url = reverse("visits:outage", args=["0"])[:-2]
    categories = dict(Category.choices)
    for item in queue.items:
        if item.ticket:
            item.url = f"{order_url}{item.ticket.number}/"
            item.category = categories.get(item.ticket.category, "")
        else:
            item.url = f"{outage_url}{item.outage.number}/"
    return render(request, "visits/queue.html", {"queue": queue, "now": timezone.now()})


def _respond(request, visit_page, *, form=None, unreached=None, error="", status=200):
    return render(
        request,
        "visits/visit.html",
        {
            "p": visit_page,
            "form": form or VisitForm(),
            "unreached": unreached or UnreachedForm(),
            "error": error,
            "now": timezone.now(),
        },
        status=status,
    )


def _handle(request, visit_page, *, record, unreached_call, back):
    """POST: `outcome=unreached` counts a call that did not reach; otherwise the verdict."""
    actor = Actor(user=request.user)
    if not visit_page.due:
        return _respond(request, visit_page, error=_("No return visit is due here."), status=409)
    if request.POST.get("outcome") == "unreached":
        form = UnreachedForm(request.POST)
        if form.is_valid():
            try:
                visit = unreached_call(actor=actor, note=form.cleaned_data["note"])
            except NotAllowed as error:
                return _respond(request, visit_page, error=error.message, status=409)
            except DomainError as error:
                add_service_errors(form, error)
            else:
                if visit.status == "unreachable":
                    messages.success(request, _("Closed as unreachable."))
                else:
                    messages.success(
                        request,
                        _("Attempt %(n)s recorded; try again from %(at)s.")
                        % {
                            "n": visit.attempts,
                            "at": timezone.localtime(visit.next_attempt_at).strftime("%H:%M"),
                        },
                    )
                return redirect("visits:queue")
        return _respond(request, visit_page, unreached=form, status=400)
    form = VisitForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            record(
                actor=actor,
                satisfaction=data["satisfaction"],
                reason=data["reason"],
                note=data["note"],
            )
        except NotAllowed as error:
            return _respond(request, visit_page, form=form, error=error.message, status=409)
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Return visit recorded."))
            return redirect(*back)
    return _respond(request, visit_page, form=form, status=400)


@page("visits:ticket")
def ticket_visit(request: HttpRequest, number: str) -> HttpResponse:
    visit_page = selectors.visit_page_for_ticket(user=request.user, number=number)
    if request.method != "POST":
        return _respond(request, visit_page)
    ticket = visit_page.ticket
    return _handle(
        request,
        visit_page,
        record=lambda **kw: services.visit_record(ticket=ticket, **kw),
        unreached_call=lambda **kw: services.visit_attempt_unreached(ticket=ticket, **kw),
        back=("visits:queue",),
    )


@page("visits:outage")
def outage_visit(request: HttpRequest, number: str) -> HttpResponse:
    visit_page = selectors.visit_page_for_outage(number=number)
    if request.method != "POST":
        return _respond(request, visit_page)
    outage = visit_page.outage
    return _handle(
        request,
        visit_page,
        record=lambda **kw: services.visit_record_for_outage(outage=outage, **kw),
        unreached_call=lambda **kw: services.visit_attempt_unreached_for_outage(
            outage=outage, **kw
        ),
        back=("visits:queue",),
    )
