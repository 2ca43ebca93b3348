"""The in-app notifications every user sees: a badge in the top bar and a list page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.matrix import page
from sla.selectors import notifications_for, notifications_unread_for
from sla.services.notifications import notification_mark_read


@page("sla:notifications")
def notification_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "sla/notifications.html", {"page": page})


@page("sla:notifications_unread")
def notification_unread(request: HttpRequest) -> JsonResponse:
    """The badge polls this: the unread count (no page render pays for it)."""
    return JsonResponse({"unread": notifications_unread_for(request.user).count()})


@page("sla:notifications_read")
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    notification_mark_read(user=request.user, ids=ids or None)
    return redirect("sla:notifications")
