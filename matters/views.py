"""The supervisors' pages for important service matters: the list, file one, change one.

Each view asks the permission matrix (`accounts.matrix`), validates with the form and calls
one service; the rules come back as field errors on the form.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.matrix import MATTER_FILERS, page
from accounts.roles import roles_of
from matters import selectors, services
from matters.forms import MatterForm, add_service_errors
from matters.models import ImportantMatter
from servicedesk.actors import Actor
from servicedesk.errors import DomainError


@page("matters:list")
def matter_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    return render(
        request,
        "matters/list.html",
        {
            "matters": selectors.matter_list(now=now),
            "now": now,
            "may_file": bool(roles_of(request.user) & MATTER_FILERS),
        },
    )


def _form_page(
    request: HttpRequest, form: MatterForm, *, matter: ImportantMatter | None, status: int = 200
) -> HttpResponse:
    return render(request, "matters/form.html", {"form": form, "matter": matter}, status=status)


@page("matters:create")
def matter_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, MatterForm(), matter=None)
    form = MatterForm(request.POST)
    if form.is_valid():
        try:
            services.matter_file(draft=form.draft(), actor=Actor(user=request.user))
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Important service matter filed."))
            return redirect("matters:list")
    return _form_page(request, form, matter=None, status=400)


@page("matters:edit")
def matter_edit(request: HttpRequest, pk: int) -> HttpResponse:
    matter = selectors.matter_get(pk=pk)
    if request.method != "POST":
        return _form_page(
            request, MatterForm(initial=MatterForm.initial_for(matter)), matter=matter
        )
    form = MatterForm(request.POST)
    if form.is_valid():
        try:
            services.matter_update(
                matter=matter, draft=form.draft(), actor=Actor(user=request.user)
            )
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Important service matter saved."))
            return redirect("matters:list")
    return _form_page(request, form, matter=matter, status=400)
