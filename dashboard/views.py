"""The supervisors' pages: live wallboard, breach list, period report with drill-down and exports.

Each view asks the permission matrix who may open it (`accounts.matrix`: supervisors,
centre managers and administrators), reads through selectors or `dashboard.metrics`, and the one write here (acknowledging a breach)
calls the SLA engine's service.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.matrix import page
from customers.models import AreaType
from dashboard import charts, exports, selectors
from dashboard.forms import AcknowledgeForm, BreachFilterForm, ReportFilterForm
from dashboard.metrics.basics import scope_build, thresholds_current
from dashboard.metrics.figures import period_metrics
from dashboard.models import MetricSettings
from privacy.services import disclosure_log_export
from servicedesk.errors import DomainError
from sla.models import Breach
from sla.selectors import timers_estimated_running
from tickets.models import Category
from tickets.services import ticket_breach_acknowledge

AREA_LABELS = dict(AreaType.choices)
PAGE_SIZE = 50
DRILL_PAGE_SIZE = 100
EXPORT_LIMIT = 100_000  # rows in one drill-down export; beyond that, narrow the filters


def _refresh_seconds() -> int:
    row = (
        MetricSettings.objects.order_by("pk")
        .values_list("wallboard_refresh_seconds", flat=True)
        .first()
    )
    return min(5, row or 5)


def _download(request, tables: list[exports.Table], fmt: str, filename: str) -> HttpResponse:
    """The file, and its entry in the disclosure log: who, when, which export, how many rows."""
    query = request.GET.copy()
    query.pop("format", None)
    disclosure_log_export(
        user=request.user,
        export=f"{filename}.{fmt}",
        query=query.urlencode(),
        rows=sum(len(table.rows) for table in tables),
        field=next((table.personal for table in tables if table.personal), ""),
    )
    if fmt == "xlsx":
        response = HttpResponse(
            exports.to_xlsx(tables),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(exports.to_csv(tables), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


# --- Wallboard ----------------------------------------------------------------------------------


@page("dashboard:wallboard")
def wallboard(request):
    """The live wall screen. `?wall=1` (or the full-screen button) hides the page chrome."""
    snapshot = selectors.wallboard_snapshot(now=timezone.now())
    return render(
        request,
        "dashboard/wallboard.html",
        {
            "s": snapshot,
            "refresh_seconds": _refresh_seconds(),
            "wall": request.GET.get("wall") == "1",
        },
    )


@page("dashboard:wallboard_live")
def wallboard_live(request):
    """The wallboard's live part as an HTML fragment, fetched by the page every few seconds."""
    snapshot = selectors.wallboard_snapshot(now=timezone.now())
    response = render(request, "dashboard/_live.html", {"s": snapshot})
    response["Cache-Control"] = "no-store"
    return response


# --- Breaches -----------------------------------------------------------------------------------


@page("dashboard:breaches")
def breaches(request):
    form = BreachFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    rows = selectors.breach_list(**{k: v for k, v in filters.items() if v})
    now = timezone.now()
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(request, [_breach_table(rows[:EXPORT_LIMIT], now)], fmt, "breaches")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for breach in page:
        breach.late_by = selectors.breach_lateness(breach, now=now)
        breach.area_label = AREA_LABELS.get(breach.area_type, breach.area_type)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "dashboard/breaches.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "ack_form": AcknowledgeForm(),
        },
    )


ESTIMATED_LIMIT = 200


@page("dashboard:estimated")
def estimated(request):
    """Running deadlines computed past the holiday table (Monday–Friday estimates)."""
    timers = list(timers_estimated_running()[: ESTIMATED_LIMIT + 1])
    return render(
        request,
        "dashboard/estimated.html",
        {"timers": timers[:ESTIMATED_LIMIT], "more": len(timers) > ESTIMATED_LIMIT},
    )


def _breach_table(rows, now) -> exports.Table:
    table = exports.Table(
        "breaches",
        _("Breaches"),
        [
            _("Order number"),
            _("Timer"),
            _("Handling unit"),
            _("Area type"),
            _("Owner agent"),
            _("Breached at"),
            _("Late by (min)"),
            _("Acknowledged at"),
            _("Acknowledged by"),
            _("Comment"),
        ],
    )
    for breach in rows:
        late = selectors.breach_lateness(breach, now=now)
        table.add(
            breach.ticket.number,
            breach.get_name_display(),
            str(breach.handling_unit or ""),
            str(AREA_LABELS.get(breach.area_type, breach.area_type)),
            exports._person(breach.owner),
            exports._local(breach.occurred_at),
            round(late.total_seconds() / 60, 1),
            exports._local(breach.acknowledged_at),
            exports._person(breach.acknowledged_by),
            breach.acknowledgement,
        )
    return table


@page("dashboard:breach_acknowledge")
@require_POST
def breach_acknowledge(request, pk: int):
    try:
        breach = selectors.breach_get(pk=pk)
    except Breach.DoesNotExist:
        raise Http404 from None
    form = AcknowledgeForm(request.POST)
    back = request.POST.get("next") or ""
    if not back.startswith("/"):
        back = "dashboard:breaches"
    if not form.is_valid():
        messages.error(request, _("Write a comment on the breach."))
        return redirect(back)
    try:
        ticket_breach_acknowledge(
            breach=breach,
            user=request.user,
            comment=form.cleaned_data["comment"],
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Breach on order %(number)s acknowledged.") % {"number": breach.ticket.number},
        )
    return redirect(back)


# --- Period report --------------------------------------------------------------------------------


def _charts(m: dict) -> dict[str, str]:
    hours = [f"{h:02d}" for h in range(24)]
    by_hour = m["volumes"]["by_hour"]
    return {
        "volumes": charts.stacked_bars(
            _("Orders by hour and category"),
            hours,
            [
                charts.Series(str(c.label), [row["by_category"][c.value] for row in by_hour])
                for c in Category
            ],
            label_every=2,
        ),
        "calls": charts.stacked_bars(
            _("Calls by hour"),
            hours,
            [charts.Series(_("Calls"), [r["calls"] for r in by_hour])],
            label_every=2,
        ),
        "service_level": charts.percent_line(
            _("Service level by hour"),
            hours,
            [row["service_level"] for row in by_hour],
            label_every=2,
        ),
        "arrival": charts.percent_bars(
            _("On-site arrival compliance by area type"),
            [str(label) for label in AreaType.labels],
            [m["arrival"]["by_area_type"][code]["rate"] for code in AreaType.values],
        ),
        "satisfaction": charts.percent_line(
            _("Satisfaction by day"),
            [row["date"][5:] for row in m["satisfaction"]["trend"]],
            [row["rate"] for row in m["satisfaction"]["trend"]],
            target=m["satisfaction"]["target_percent"],
            label_every=max(1, len(m["satisfaction"]["trend"]) // 12),
        ),
    }


def _report_form(request) -> ReportFilterForm:
    """The filter form bound to the query, with the default period written in so it shows."""
    data = request.GET.copy()
    for name, value in ReportFilterForm.default_period().items():
        if not data.get(name):
            data[name] = value.isoformat()
    return ReportFilterForm(data)


@page("dashboard:report")
def report(request):
    form = _report_form(request)
    if not form.is_valid():
        return render(request, "dashboard/report.html", {"form": form}, status=400)
    start, end = form.period()
    filters = form.filters()
    m = period_metrics(start=start, end=end, **filters)
    tables = exports.report_tables(m)
    ranking = selectors.frequent_outage_ranking(until=min(end, timezone.now()))
    if ranking is not None:
        tables.update(exports.frequent_outage_tables(ranking))
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        chosen = request.GET.get("table", "all")
        picked = (
            list(tables.values())
            if chosen == "all"
            else [tables[chosen]]
            if chosen in tables
            else None
        )
        if picked is None:
            raise Http404(chosen)
        return _download(
            request,
            picked,
            fmt,
            f"report-{form.cleaned_data['start']}-{form.cleaned_data['end']}-{chosen}",
        )
    query = urlencode(
        {
            "start": form.cleaned_data["start"].isoformat(),
            "end": form.cleaned_data["end"].isoformat(),
            **{k: v for k, v in filters.items() if v},
        }
    )
    return render(
        request,
        "dashboard/report.html",
        {
            "form": form,
            "m": m,
            "tables": tables,
            "charts": _charts(m),
            "query": query,
        },
    )


@page("dashboard:drill")
def drill(request, figure: str):
    """The orders or calls behind one figure of the report, with the report's filters."""
    form = _report_form(request)
    if not form.is_valid():
        return render(request, "dashboard/report.html", {"form": form}, status=400)
    start, end = form.period()
    scope = scope_build(start=start, end=end, **form.filters())
    try:
        found = selectors.drill_rows(
            figure, scope=scope, thresholds=thresholds_current(), now=timezone.now()
        )
    except (KeyError, ValueError):
        raise Http404(figure) from None
    rows = found.rows
    if found.kind == "orders":
        rows = rows.select_related("handling_unit", "owner", "customer")
    title = _("Rows behind “%(figure)s”") % {"figure": figure}
    fmt = request.GET.get("format")
    if fmt in ("csv", "xlsx"):
        return _download(
            request,
            [exports.drill_table(found.kind, rows[:EXPORT_LIMIT], title)],
            fmt,
            f"drill-{figure.replace(':', '-')}",
        )
    page = Paginator(rows, DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "dashboard/drill.html",
        {
            "figure": figure,
            "table": exports.drill_table(found.kind, page, title),
            "page": page,
            "query": query.urlencode(),
            "kind": found.kind,
        },
    )
