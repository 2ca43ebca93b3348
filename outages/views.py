"""The outage register pages: the list, the register/edit form, the outage page and its
actions (update the expected restoration, dispatch, report to the authority, power restored).

Each view asks the permission matrix who may open it (`accounts.matrix`), reads through `outages.selectors`,
validates with a form and calls one service. "Power restored" resolves the orders linked to
the outage too, so it calls `tickets.services.tickets_resolve_for_outage`, which ends the
outage and resolves them in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.matrix import page
from outages import selectors, services
from outages.forms import (
    AuthorityReportForm,
    DispatchForm,
    EndForm,
    OutageForm,
    RestorationForm,
    add_service_errors,
)
from outages.models import Outage
from outages.permissions import (
    outage_may_edit,
    outage_may_override_notice,
    outage_may_report_to_authority,
)
from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from tickets.services import tickets_resolve_for_outage


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)


def _may(request: HttpRequest) -> dict[str, bool]:
    user = request.user
    return {
        "may_edit": outage_may_edit(user),
        "may_override": outage_may_override_notice(user),
        "may_report": outage_may_report_to_authority(user),
    }


@page("outages:list")
def outage_list(request: HttpRequest) -> HttpResponse:
    """Active outages first (the longest-running on top), then announced, then recently ended,
    each with its calls and orders linked, its customers covered and its crew."""
    now = timezone.now()
    register = selectors.outage_register_list(now=now)
    return render(request, "outages/list.html", {"register": register, "now": now, **_may(request)})


def _form_page(
    request: HttpRequest, form: OutageForm, *, outage: Outage | None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "outages/form.html",
        {"form": form, "outage": outage, **_may(request)},
        status=status,
    )


@page("outages:create")
def outage_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _form_page(request, OutageForm(), outage=None)
    form = OutageForm(request.POST)
    if form.is_valid():
        try:
            outage = services.outage_register(
                draft=form.draft(),
                actor=_actor(request),
                notice_override_reason=form.override_reason,
            )
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("Outage %(number)s registered.") % {"number": outage.number}
            )
            return redirect("outages:detail", number=outage.number)
    return _form_page(request, form, outage=None, status=400)


@page("outages:edit")
def outage_edit(request: HttpRequest, number: str) -> HttpResponse:
    outage = selectors.outage_get(number=number)
    if request.method != "POST":
        return _form_page(
            request, OutageForm(initial=OutageForm.initial_for(outage)), outage=outage
        )
    form = OutageForm(request.POST)
    if form.is_valid():
        try:
            outage = services.outage_update(
                outage=outage,
                draft=form.draft(),
                actor=_actor(request),
                notice_override_reason=form.override_reason,
            )
        except NotAllowed as error:
            messages.error(request, error.message)
            return redirect("outages:detail", number=outage.number)
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Outage %(number)s saved.") % {"number": outage.number})
            return redirect("outages:detail", number=outage.number)
    return _form_page(request, form, outage=outage, status=400)


def _detail(
    request: HttpRequest,
    number: str,
    *,
    forms: dict | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    outage = selectors.outage_get_for_page(number=number)
    forms = forms or {}
    return render(
        request,
        "outages/detail.html",
        {
            "outage": outage,
            "now": now,
            "restoration_form": forms.get("restoration") or RestorationForm(),
            "dispatch_form": forms.get("dispatch") or DispatchForm(),
            "authority_form": forms.get("authority") or AuthorityReportForm(),
            "end_form": forms.get("end") or EndForm(),
            "action_error": error,
            **_may(request),
        },
        status=status,
    )


@page("outages:detail")
def outage_detail(request: HttpRequest, number: str) -> HttpResponse:
    """What the outage covers (customers counted, important ones listed), its crew, its
    linked calls, its reporting clocks and its history, with the actions open to the user."""
    return _detail(request, number)


def _act(
    request: HttpRequest,
    number: str,
    *,
    name: str,
    form: object,
    perform: Callable[[Outage, dict], str],
) -> HttpResponse:
    outage = selectors.outage_get(number=number)
    if form.is_valid():
        try:
            done = perform(outage, form.cleaned_data)
        except NotAllowed as error:
            return _detail(request, number, error=error.message, status=409)
        except DomainError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, done)
            return redirect("outages:detail", number=number)
    return _detail(request, number, forms={name: form}, status=400)


@page("outages:restoration")
@require_POST
def outage_restoration(request: HttpRequest, number: str) -> HttpResponse:
    def perform(outage: Outage, data: dict) -> str:
        services.outage_update_restoration(
            outage=outage,
            expected_restoration_at=data["expected_restoration_at"],
            note=data.get("note", ""),
            actor=_actor(request),
        )
        return _("Expected restoration updated.")

    return _act(
        request, number, name="restoration", form=RestorationForm(request.POST), perform=perform
    )


@page("outages:dispatch")
@require_POST
def outage_dispatch(request: HttpRequest, number: str) -> HttpResponse:
    def perform(outage: Outage, data: dict) -> str:
        dispatch = services.outage_dispatch(outage=outage, unit=data["unit"], actor=_actor(request))
        return _("Outage dispatched to %(unit)s.") % {"unit": dispatch.unit.name}

    return _act(request, number, name="dispatch", form=DispatchForm(request.POST), perform=perform)


@page("outages:authority")
@require_POST
def outage_authority_report(request: HttpRequest, number: str) -> HttpResponse:
    def perform(outage: Outage, data: dict) -> str:
        services.outage_record_authority_report(
            outage=outage, note=data.get("note", ""), actor=_actor(request)
        )
        return _("Report to the power authority recorded.")

    return _act(
        request, number, name="authority", form=AuthorityReportForm(request.POST), perform=perform
    )


@page("outages:end")
@require_POST
def outage_end(request: HttpRequest, number: str) -> HttpResponse:
    def perform(outage: Outage, data: dict) -> str:
        ended = tickets_resolve_for_outage(
            outage=outage,
            restored_at=data.get("restored_at"),
            note=data.get("note", ""),
            actor=_actor(request),
        )
        return ngettext(
            "Power restored: %(count)s linked order resolved; one return visit queued.",
            "Power restored: %(count)s linked orders resolved; one return visit queued.",
            ended.resolved,
        ) % {"count": ended.resolved}

    return _act(request, number, name="end", form=EndForm(request.POST), perform=perform)
