"""HTML pages for work orders: the agent console, My orders, the unit's orders, the order page.

Each view resolves through a selector, validates with a form, acts through one service and
renders. The console's live parts (the ringing call, the caller's card, the knowledge base)
are small endpoints the page asks without reloading; they render the same partial templates
the full page does, so there is one way to draw a card.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.matrix import page
from calls import services as call_services
from calls.models import Disposition
from customers import selectors as customer_selectors
from customers.models import AreaType, Customer, HandlingUnit
from customers.validators import normalize_phone
from privacy import rules as privacy_rules
from privacy import services as privacy_services
from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from tickets import selectors, services
from tickets.forms import ActionForm, DispositionForm, HastenForm, IntakeForm, add_service_errors
from tickets.lifecycle import Action
from tickets.models import OPEN_STATUSES, Category, ReplyForm, Satisfaction, Status, SubType, Ticket
from tickets.permissions import (
    HASTEN,
    ticket_action_allowed,
    ticket_action_possible,
    ticket_actions_for,
)

BEIJING = ZoneInfo("Asia/Shanghai")


def _actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user)


# --- Presentation helpers: timers and outages as the agent reads them ----------------------


def _mark_timers(timers: Iterable, now: datetime) -> list:
    """Give each timer `state` (running / at_risk / breached / paused / stopped) for the page;
    the page's script keeps counting from the ISO due time it is given."""
    marked = []
    for timer in timers:
        if timer.stopped_at is not None:
            timer.state = "breached" if timer.breached_at else "stopped"
        elif timer.paused_at is not None:
            timer.state = "paused"
        elif timer.breached_at is not None or timer.due_at <= now:
            timer.state = "breached"
        elif timer.at_risk_at <= now:
            timer.state = "at_risk"
        else:
            timer.state = "running"
        marked.append(timer)
    return marked


def _mark_ticket_timers(tickets: Iterable[Ticket], now: datetime) -> None:
    for ticket in tickets:
        running = getattr(ticket, "running_timers", [])
        ticket.running_timers = sorted(_mark_timers(running, now), key=lambda t: t.due_at)
        ticket.next_due = ticket.running_timers[0].due_at if ticket.running_timers else None


def _day_offset(moment: datetime | None, now: datetime) -> int | None:
    if moment is None:
        return None
    return (moment.astimezone(BEIJING).date() - now.astimezone(BEIJING).date()).days


def _mark_outages(outages: Iterable, now: datetime) -> list:
    """What the agent reads out: has it started, and on which day (今天/明天…) power returns."""
    marked = []
    for outage in outages:
        outage.has_started = outage.starts_at <= now
        outage.start_day = _day_offset(outage.starts_at, now)
        outage.restoration_day = _day_offset(outage.expected_restoration_at, now)
        outage.restoration_overdue = bool(
            outage.expected_restoration_at and outage.expected_restoration_at < now
        )
        marked.append(outage)
    return marked


# --- The caller panel: lookup, search results and the customer card -------------------------


def _normalized(phone: str) -> str:
    try:
        return normalize_phone(phone)
    except ValidationError:  # a half-typed number simply finds nobody
        return ""


def _panel_context(*, phone: str, query: str, customer_id: str, now: datetime) -> dict:
    """Who is calling: search results when ambiguous, the card when one customer is chosen."""
    phone = (phone or "").strip()
    query = (query or "").strip()
    customer: Customer | None = None
    results: list[Customer] = []
    searched = bool(query or phone)
    if customer_id and str(customer_id).isdigit():
        customer = customer_selectors.customer_get_for_card(customer_id=int(customer_id))
    elif query:
        results = customer_selectors.customer_search(query=query)
    elif phone:
        results = customer_selectors.customer_find_by_phone(phone=phone)
    if customer is None and len(results) == 1:
        customer = customer_selectors.customer_get_for_card(customer_id=results[0].pk)
        results = []
    normalized = _normalized(phone)
    card = None
    if customer is not None or normalized:
        card = selectors.caller_card(customer=customer, phone=normalized, now=now)
        _mark_ticket_timers(card.open_orders, now)
        _mark_outages(card.outages, now)
    return {
        "panel_phone": phone,
        "panel_query": query,
        "results": results,
        "searched": searched,
        "card": card,
        "customer": customer,
    }


def _subtypes() -> list[SubType]:
    return list(
        SubType.objects.filter(is_active=True).order_by(
            "category", "parent_id", "sort_order", "code"
        )
    )


def _intake_context(request: HttpRequest, *, form: IntakeForm, panel: dict, now: datetime) -> dict:
    subtypes = _subtypes()
    context = {
        "form": form,
        "categories": Category.choices,
        "subtypes": [s for s in subtypes if s.parent_id is None],
        "details": [s for s in subtypes if s.parent_id is not None],
        "area_types": AreaType.choices,
        "reply_forms": ReplyForm.choices,
        "units": HandlingUnit.objects.filter(is_active=True).order_by("code"),
        "channels": services.Channel.choices,
        "now": now,
        **panel,
    }
    done = request.GET.get("done")
    if done:
        ticket = selectors.ticket_get_with_running_timers(user=request.user, number=done)
        if ticket is not None:
            _mark_ticket_timers([ticket], now)
        context["done"] = ticket
    return context


@page("tickets:intake")
def intake(request: HttpRequest) -> HttpResponse:
    """Call intake (the agent console): find the caller, log the order, read out its number.

    GET ?phone=…|?q=…|?customer=… shows the caller's card without any script; the page's
    script fills the same panel from the ringing call and from the search box.
    """
    now = timezone.now()
    if request.method == "POST":
        return _intake_submit(request, now=now)
    phone = request.GET.get("phone", "")
    panel = _panel_context(
        phone=phone,
        query=request.GET.get("q", ""),
        customer_id=request.GET.get("customer", ""),
        now=now,
    )
    initial = {"caller_phone": phone, "call_id": request.GET.get("call", "")}
    if panel["customer"] is not None:
        initial["customer"] = panel["customer"].pk
    form = IntakeForm(initial=initial)
    return render(
        request, "tickets/intake.html", _intake_context(request, form=form, panel=panel, now=now)
    )


def _intake_submit(request: HttpRequest, *, now: datetime) -> HttpResponse:
    form = IntakeForm(request.POST)
    if form.is_valid():
        draft, dispatch = form.draft()
        try:
            # The agent is on the line: the details the category needs are asked for now.
            if form.outage is not None:
                ticket = services.ticket_create_for_outage(
                    outage=form.outage, draft=draft, actor=_actor(request), require_details=True
                )
            else:
                ticket = services.ticket_create(
                    draft=draft,
                    actor=_actor(request),
                    require_details=True,
                    dispatch=dispatch,
                    handling_unit=form.cleaned_data.get("handling_unit"),
                )
        except DomainError as error:
            add_service_errors(form, error)
        else:
            # The caller is often still on the line: keep their card on screen under the number.
            params = {"done": ticket.number, "phone": ticket.caller_phone}
            if ticket.customer_id:
                params["customer"] = ticket.customer_id
            if ticket.call_id:
                params["call"] = ticket.call.call_id
            return redirect(f"{reverse('tickets:intake')}?{urlencode(params)}")
    panel = _panel_context(
        phone=request.POST.get("caller_phone", ""),
        query="",
        customer_id=request.POST.get("customer", ""),
        now=now,
    )
    context = _intake_context(request, form=form, panel=panel, now=now)
    return render(request, "tickets/intake.html", context, status=400)


@page("tickets:caller_panel")
@require_GET
def caller_panel(request: HttpRequest) -> HttpResponse:
    """The caller panel alone (search results or the card), for the console's script."""
    now = timezone.now()
    panel = _panel_context(
        phone=request.GET.get("phone", ""),
        query=request.GET.get("q", ""),
        customer_id=request.GET.get("customer", ""),
        now=now,
    )
    return render(request, "tickets/partials/caller_panel.html", {**panel, "now": now})


@page("tickets:live_call")
@require_GET
def live_call(request: HttpRequest) -> JsonResponse:
    """JSON: the call ringing or in progress at this agent's position, or null. Polled every second."""
    call = selectors.call_live_for_agent(user=request.user, now=timezone.now())
    if call is None:
        return JsonResponse({"call": None})
    return JsonResponse(
        {
            "call": {
                "call_id": call.call_id,
                "caller_phone": call.caller_phone,
                "ring_at": call.ring_at.isoformat() if call.ring_at else None,
                "answer_at": call.answer_at.isoformat() if call.answer_at else None,
                "state": "talking" if call.answer_at else "ringing",
            }
        }
    )


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@page("tickets:hasten")
@require_POST
def hasten(request: HttpRequest, number: str) -> HttpResponse:
    """A repeat call on an open order becomes a hastening (催办) in one action."""
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    form = HastenForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        hastening = services.ticket_hasten(
            ticket=ticket,
            actor=_actor(request),
            text=data.get("text", ""),
            caller_phone=_normalized(data.get("caller_phone", "")),
            call_id=data.get("call_id", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        # The service counted the call on the order it locked: no need to read the row again.
        messages.success(
            request,
            _("Hastening logged on order %(number)s (call no. %(count)s); its handler is told.")
            % {"number": ticket.number, "count": hastening.ticket.call_count},
        )
    return redirect(_safe_next(request, reverse("tickets:intake")))


@page("tickets:call_disposition")
@require_POST
def call_disposition(request: HttpRequest) -> HttpResponse:
    """A wrong number or a nuisance call, logged with its disposition in one action."""
    form = DispositionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose what the call was."))
        return redirect("tickets:intake")
    data = form.cleaned_data
    try:
        call = call_services.call_record_disposition(
            agent=request.user,
            disposition=data["disposition"],
            call_id=data.get("call_id", ""),
            caller_phone=data.get("caller_phone", ""),
            note=data.get("note", ""),
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Call from %(phone)s logged as: %(disposition)s.")
            % {
                "phone": call.caller_phone or "—",
                "disposition": Disposition(call.disposition).label,
            },
        )
    return redirect("tickets:intake")


# --- Lists -------------------------------------------------------------------------------------


@page("tickets:my_orders")
def my_orders(request: HttpRequest) -> HttpResponse:
    """The agent's own orders: open ones with live countdowns, callbacks, return visits due."""
    now = timezone.now()
    tickets = selectors.ticket_list_owned_by(user=request.user)
    _mark_ticket_timers(tickets, now)
    callbacks, open_orders, to_check, to_visit, to_archive = [], [], [], [], []
    for ticket in tickets:
        if ticket.status == Status.HANDED_BACK:
            # 回单审核: the unit's result waits for the agent who took the call.
            to_check.append(ticket)
        elif ticket.status in OPEN_STATUSES:
            if ticket.category == Category.INQUIRY and ticket.reply_form in (
                ReplyForm.CALLBACK,
                ReplyForm.SMS,
            ):
                callbacks.append(ticket)
            else:
                open_orders.append(ticket)
        elif ticket.status == Status.RESOLVED:
            to_visit.append(ticket)
        else:
            to_archive.append(ticket)
    far = now.replace(year=9999)
    open_orders.sort(key=lambda t: (not t.supervised, t.next_due or far))
    callbacks.sort(key=lambda t: t.next_due or far)
    return render(
        request,
        "tickets/my_orders.html",
        {
            "open_orders": open_orders,
            "callbacks": callbacks,
            "to_check": to_check,
            "to_visit": to_visit,
            "to_archive": to_archive,
            "now": now,
        },
    )


@page("tickets:unit_orders")
def unit_orders(request: HttpRequest) -> HttpResponse:
    """The open orders of the crews and departments the user belongs to, with countdowns."""
    now = timezone.now()
    tickets = selectors.ticket_list_for_unit_page(user=request.user)
    _mark_ticket_timers(tickets, now)
    return render(request, "tickets/unit_orders.html", {"tickets": tickets, "now": now})


# --- The order page and its actions ----------------------------------------------------------


def _detail_response(
    request: HttpRequest,
    number: str,
    *,
    forms: dict | None = None,
    error: str = "",
    status: int = 200,
    revealed: str = "",
) -> HttpResponse:
    now = timezone.now()
    ticket = selectors.ticket_get_for_page(user=request.user, number=number)
    _mark_timers(ticket.timer_list, now)
    # Personal data as privacy.rules lets this person see it; `revealed` was just logged.
    personal = privacy_rules.order_personal_data(
        user=request.user, ticket=ticket, revealed=revealed
    )
    for hastening in ticket.hastening_list:
        hastening.shown_phone = personal.phone(hastening.caller_phone)
    actions = [
        a for a in ticket_actions_for(user=request.user, ticket=ticket) if a in ACTION_SERVICES
    ]
    if Action.HANDBACK in actions:
        # Resolve and reply are the same move as the hand-back (回单) there: one form, under
        # the name the unit knows it by — unless one of them was just sent and is refused,
        # which then shows again with its messages.
        same = {Action.RESOLVE, Action.REPLY}
        hidden = {Action.HANDBACK} if same & set(forms or {}) else same
        actions = [a for a in actions if a not in hidden]
    units = (
        list(
            HandlingUnit.objects.filter(is_active=True)
            .exclude(pk=ticket.handling_unit_id)
            .order_by("kind", "name")
            .only("code", "name", "kind")
        )
        if Action.REDISPATCH in actions
        else []
    )
    forms = forms or {}
    return render(
        request,
        "tickets/detail.html",
        {
            "ticket": ticket,
            "actions": actions,
            "forms": {a: forms.get(a) or ActionForm(action=a) for a in actions},
            "satisfactions": Satisfaction.choices,
            "units": units,
            "personal": personal,
            "action_error": error,
            "now": now,
        },
        status=status,
    )


@page("tickets:detail")
def detail(request: HttpRequest, number: str) -> HttpResponse:
    """All fields, the timeline, the timers and the actions this user may take now."""
    return _detail_response(request, number)


@page("tickets:reveal")
@require_POST
def reveal(request: HttpRequest, number: str, field: str) -> HttpResponse:
    """Show one personal field of the order in full, once: an explicit, logged action.

    The answer is the order page itself (not a redirect), so reloading the page or opening
    it again shows the field masked; the record says who, when and which order.
    """
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    privacy_services.disclosure_log_reveal(user=request.user, ticket=ticket, field=field)
    response = _detail_response(request, number, revealed=field)
    response["Cache-Control"] = "no-store"
    return response


def _active_unit(code: str) -> HandlingUnit | None:
    """The unit a re-dispatch names; None (refused by the service) when it is not active."""
    return HandlingUnit.objects.filter(code=code.strip(), is_active=True).first() if code else None


def _note(data: dict) -> str:
    return (data.get("note") or "").strip()


# One service per action; each receives the order, the actor and the form's cleaned data.
ACTION_SERVICES: dict[str, Callable] = {
    Action.DISPATCH: lambda t, a, d: services.ticket_dispatch(ticket=t, actor=a, note=_note(d)),
    Action.ACKNOWLEDGE: lambda t, a, d: services.ticket_acknowledge(
        ticket=t, actor=a, note=_note(d)
    ),
    Action.ARRIVE: lambda t, a, d: services.ticket_record_arrival(ticket=t, actor=a, note=_note(d)),
    Action.RESOLVE: lambda t, a, d: services.ticket_resolve(
        ticket=t,
        actor=a,
        cause=d.get("cause", "").strip(),
        work_done=d.get("work_done", "").strip(),
        reply=d.get("reply", "").strip(),
        power_restored=bool(d.get("power_restored")),
        note=_note(d),
    ),
    Action.REPLY: lambda t, a, d: services.ticket_reply(
        ticket=t, actor=a, reply=d["reply"], note=_note(d)
    ),
    Action.VISIT: lambda t, a, d: services.ticket_visit(
        ticket=t, actor=a, satisfaction=d["satisfaction"], note=_note(d)
    ),
    Action.ARCHIVE: lambda t, a, d: services.ticket_archive(ticket=t, actor=a, note=_note(d)),
    Action.CANCEL: lambda t, a, d: services.ticket_cancel(ticket=t, actor=a, reason=d["reason"]),
    Action.REDISPATCH: lambda t, a, d: services.ticket_redispatch(
        ticket=t, actor=a, unit=_active_unit(d.get("handling_unit", "")), reason=d["reason"]
    ),
    Action.CONTACT: lambda t, a, d: services.ticket_record_contact(
        ticket=t, actor=a, note=_note(d)
    ),
    Action.HANDBACK: lambda t, a, d: services.ticket_handback(
        ticket=t,
        actor=a,
        cause=d.get("cause", "").strip(),
        work_done=d.get("work_done", "").strip(),
        reply=d.get("reply", "").strip(),
        power_restored=bool(d.get("power_restored")),
        note=_note(d),
    ),
    Action.ACCEPT_CHECK: lambda t, a, d: services.ticket_check_accept(
        ticket=t, actor=a, note=_note(d)
    ),
    Action.RETURN_CHECK: lambda t, a, d: services.ticket_check_return(
        ticket=t, actor=a, reason=d["reason"]
    ),
    Action.TERMINATE: lambda t, a, d: services.ticket_terminate(
        ticket=t, actor=a, reason=d["reason"]
    ),
    HASTEN: lambda t, a, d: services.ticket_hasten(ticket=t, actor=a, text=d.get("text", "")),
}


@page("tickets:action")
@require_POST
def ticket_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    """Take one action on the order; refused actions change nothing and say why."""
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    if action not in ACTION_SERVICES:
        return _detail_response(request, number, error=_("Unknown action."), status=404)
    if not ticket_action_allowed(user=request.user, ticket=ticket, action=action):
        # As on the API: the order's state first (409 whoever asks), then the role (403).
        refused = 409 if not ticket_action_possible(ticket=ticket, action=action) else 403
        return _detail_response(
            request,
            number,
            status=refused,
            error=_("This action is not available to you for the order in its current state."),
        )
    form = ActionForm(request.POST, action=action)
    if form.is_valid():
        try:
            ACTION_SERVICES[action](ticket, _actor(request), form.cleaned_data)
        except NotAllowed as error:
            return _detail_response(request, number, error=error.message, status=409)
        except DomainError as error:
            add_service_errors(form, error)
        else:
            label = _("Hastening") if action == HASTEN else Action(action).label
            messages.success(request, _("%(action)s recorded.") % {"action": label})
            if (
                action == Action.REDISPATCH
                and not selectors.ticket_visible_to(request.user).filter(pk=ticket.pk).exists()
            ):
                # Re-dispatched to another unit (转派): no longer this person's order.
                return redirect("tickets:unit_orders")
            return redirect("tickets:detail", number=number)
    return _detail_response(request, number, forms={action: form}, status=400)
