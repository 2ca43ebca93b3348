"""HTML pages for work orders. Each view resolves through a selector and acts through a service."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from tickets import selectors


@login_required
def intake(request):
    """Call intake (the agent console)."""
    return render(request, "tickets/intake.html")


@login_required
def unit_orders(request):
    """The open orders of the crews and departments the user belongs to."""
    tickets = selectors.ticket_list_for_unit_member(user=request.user)[:200]
    return render(request, "tickets/unit_orders.html", {"tickets": tickets})


@login_required
def detail(request, number: str):
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    return render(request, "tickets/detail.html", {"ticket": ticket})
