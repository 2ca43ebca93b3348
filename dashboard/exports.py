"""The report's tables, built once from `period_metrics` and written as HTML, CSV or XLSX.

The page and its exports render the same `Table` objects, so the spreadsheet always holds
the numbers the supervisor saw. Headers are translated (Chinese by default). CSV carries a
UTF-8 byte-order mark so that spreadsheet programs on Chinese Windows read it correctly.

Exports are safe to open: a text cell that a spreadsheet would run as a formula (starting
with = + - @, a tab or a carriage return) is written with a leading single quote, in CSV and
XLSX alike (OWASP's advice on CSV injection). Phone numbers in the rows are masked, as in
every list (privacy.rules), and each download is logged by the view that sends it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import Call
from customers.models import AreaType
from privacy.rules import Field, phone_in_list
from tickets.models import Category, Satisfaction


@dataclass(frozen=True)
class Cell:
    value: Any
    drill: str = ""  # the figure key of the rows behind this number, if any

    def __str__(self) -> str:
        return "" if self.value is None else str(self.value)


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    # The personal data its rows hold (privacy.rules.Field), for the export's log entry.
    personal: str = ""

    def add(self, *cells: Any) -> None:
        self.rows.append([c if isinstance(c, Cell) else Cell(c) for c in cells])


def _person(user) -> str:
    """An agent's or supervisor's name as the tables show it: full name, else user name."""
    if user is None:
        return ""
    return user.get_full_name() or user.username


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value:.2f}%"


def report_tables(m: dict[str, Any]) -> dict[str, Table]:
    """Every table of the period report, in page order."""
    calls, dispatch, sat, repairs, volumes = (
        m["calls"],
        m["dispatch"],
        m["satisfaction"],
        m["repairs"],
        m["volumes"],
    )
    fcr = calls["first_contact"]
    t = m["thresholds"]
    summary = Table("summary", _("Key figures"), [_("Figure"), _("Value"), _("Count")])
    summary.add(
        _("Calls offered"),
        Cell(calls["offered"], "calls.offered"),
        Cell(calls["offered"], "calls.offered"),
    )
    summary.add(
        _("Answer rate"),
        Cell(_pct(calls["answer_rate"]), "calls.answered"),
        Cell(calls["answered"], "calls.answered"),
    )
    summary.add(
        _("Service level (answered within %(s)s s)") % {"s": t["service_level_seconds"]},
        Cell(_pct(calls["service_level"]), "calls.within_threshold"),
        Cell(calls["within_threshold"], "calls.within_threshold"),
    )
    summary.add(
        _("Average speed of answer (s)"),
        Cell(calls["average_speed_of_answer_seconds"], "calls.answered"),
        Cell(calls["answered"], "calls.answered"),
    )
    summary.add(
        _("Abandonment rate (short abandons excluded)"),
        Cell(_pct(calls["abandonment_rate"]), "calls.abandoned"),
        Cell(calls["abandoned"], "calls.abandoned"),
    )
    summary.add(
        _("Short abandons (within %(s)s s)") % {"s": t["short_abandon_seconds"]},
        Cell(calls["short_abandoned"], "calls.short_abandoned"),
        Cell(calls["short_abandoned"], "calls.short_abandoned"),
    )
    summary.add(
        _("Calls still waiting"),
        Cell(calls["waiting"], "calls.waiting"),
        Cell(calls["waiting"], "calls.waiting"),
    )
    summary.add(
        _("First-contact resolution (no repeat within %(h)s h)")
        % {"h": t["first_contact_window_hours"]},
        Cell(_pct(fcr["rate"]), "calls.first_contact_base"),
        Cell(fcr["repeated"], "calls.first_contact_repeated"),
    )
    summary.add(
        _("Orders accepted"),
        Cell(volumes["orders"], "orders.all"),
        Cell(volumes["orders"], "orders.all"),
    )
    summary.add(
        _("Average dispatch time (s)"),
        Cell(dispatch["average_seconds"], "dispatch.all"),
        Cell(dispatch["count"], "dispatch.all"),
    )
    summary.add(
        _("95th percentile dispatch time (s)"),
        Cell(dispatch["p95_seconds"], "dispatch.all"),
        Cell(dispatch["count"], "dispatch.all"),
    )
    summary.add(
        _("Dispatched within %(s)s s") % {"s": dispatch["target_seconds"]},
        Cell(_pct(dispatch["within_target_rate"]), "dispatch.all"),
        Cell(dispatch["beyond_target"], "dispatch.beyond_target"),
    )
    summary.add(
        _("On-site arrival compliance"),
        Cell(_pct(m["arrival"]["total"]["rate"]), "arrival.total.all"),
        Cell(m["arrival"]["total"]["late"], "arrival.total.late"),
    )
    summary.add(
        _("Restoration compliance"),
        Cell(_pct(m["restoration"]["total"]["rate"]), "restoration.total.all"),
        Cell(m["restoration"]["total"]["late"], "restoration.total.late"),
    )
    for category in (Category.COMPLAINT, Category.REPORT):
        cell = m["reply"][category]
        summary.add(
            _("%(category)s replied on time") % {"category": category.label},
            Cell(_pct(cell["rate"]), f"reply.{category}.all"),
            Cell(cell["late"], f"reply.{category}.late"),
        )
    summary.add(
        _("Satisfaction rate (target %(t)s%%)") % {"t": f"{sat['target_percent']:g}"},
        Cell(_pct(sat["rate"]), "satisfaction.visited"),
        Cell(sat["satisfied"], "satisfaction.satisfied"),
    )
    summary.add(
        _("Repairs per 10,000 households"),
        Cell(repairs["per_10000_households"], "repairs.all"),
        Cell(repairs["orders"], "repairs.all"),
    )
    summary.add(
        _("Orders per fault"),
        Cell(repairs["orders_per_fault"], "repairs.faults"),
        Cell(repairs["faults"], "repairs.faults"),
    )

    hourly = Table(
        "hourly",
        _("Volumes and service level by hour"),
        [_("Hour"), _("Calls"), _("Service level"), _("Orders"), *[str(c.label) for c in Category]],
    )
    for row in volumes["by_hour"]:
        hourly.add(
            f"{row['hour']:02d}:00",
            Cell(row["calls"], f"calls.hour:{row['hour']}"),
            _pct(row["service_level"]),
            Cell(row["orders"], f"orders.hour:{row['hour']}"),
            *[row["by_category"][c] for c in Category.values],
        )

    categories = Table("categories", _("Orders by category"), [_("Category"), _("Orders")])
    for row in volumes["by_category"]:
        categories.add(row["label"], Cell(row["count"], f"orders.category:{row['category']}"))

    subtypes = Table(
        "subtypes",
        _("Orders by sub-type"),
        [_("Category"), _("Sub-type"), _("Counted separately"), _("Orders")],
    )
    labels = dict(Category.choices)
    for row in volumes["by_subtype"]:
        subtypes.add(
            str(labels.get(row["category"], row["category"])),
            row["label"],
            _("yes") if row["counted_separately"] else "",
            Cell(row["count"], f"orders.subtype:{row['subtype']}"),
        )

    areas = Table(
        "areas",
        _("By area type"),
        [
            _("Area type"),
            _("Orders"),
            _("Arrivals counted"),
            _("Arrived on time"),
            _("Arrived late"),
            _("Arrival compliance"),
            _("Restorations counted"),
            _("Restored on time"),
            _("Restoration compliance"),
        ],
    )
    orders_by_area = {row["area_type"]: row["count"] for row in volumes["by_area_type"]}
    for code, label in AreaType.choices:
        arrival = m["arrival"]["by_area_type"][code]
        restoration = m["restoration"]["by_area_type"][code]
        areas.add(
            str(label),
            Cell(orders_by_area.get(code, 0), f"orders.area_type:{code}"),
            Cell(arrival["total"], f"arrival.{code}.all"),
            Cell(arrival["on_time"], f"arrival.{code}.on_time"),
            Cell(arrival["late"], f"arrival.{code}.late"),
            _pct(arrival["rate"]),
            Cell(restoration["total"], f"restoration.{code}.all"),
            Cell(restoration["on_time"], f"restoration.{code}.on_time"),
            _pct(restoration["rate"]),
        )

    replies = Table(
        "replies",
        _("Replies on time"),
        [_("Kind"), _("Counted"), _("On time"), _("Late"), _("Rate")],
    )
    for category in (Category.COMPLAINT, Category.REPORT):
        cell = m["reply"][category]
        replies.add(
            str(category.label),
            Cell(cell["total"], f"reply.{category}.all"),
            Cell(cell["on_time"], f"reply.{category}.on_time"),
            Cell(cell["late"], f"reply.{category}.late"),
            _pct(cell["rate"]),
        )
    callback = m["callback"]
    replies.add(
        _("Inquiry callback"),
        Cell(callback["total"], "callback.all"),
        Cell(callback["on_time"], "callback.on_time"),
        Cell(callback["late"], "callback.late"),
        _pct(callback["rate"]),
    )

    levels = Table(
        "satisfaction", _("Return visits by satisfaction"), [_("Satisfaction"), _("Orders")]
    )
    for row in sat["by_level"]:
        levels.add(row["label"], Cell(row["count"], f"satisfaction.level:{row['level']}"))
    trend = Table(
        "satisfaction_trend",
        _("Satisfaction by day of acceptance"),
        [_("Date"), _("Visited"), _("Satisfied"), _("Rate")],
    )
    for row in sat["trend"]:
        trend.add(
            row["date"],
            Cell(row["visited"], f"satisfaction.day:{row['date']}"),
            row["satisfied"],
            _pct(row["rate"]),
        )

    feeders = Table("repeat_feeders", _("Repeat repairs by feeder"), [_("Feeder"), _("Faults")])
    for row in repairs["repeat_by_feeder"]:
        feeders.add(row["feeder"], Cell(row["faults"], f"repairs.feeder:{row['feeder']}"))
    transformer = Table(
        "repeat_transformer_areas",
        _("Repeat repairs by transformer area"),
        [_("Transformer area"), _("Faults")],
    )
    for row in repairs["repeat_by_transformer_area"]:
        transformer.add(
            row["transformer_area"],
            Cell(row["faults"], f"repairs.transformer_area:{row['transformer_area']}"),
        )
    units = Table(
        "units", _("By handling unit"), [_("Handling unit"), _("Returned by the check (退单)")]
    )
    for row in m.get("by_unit", []):
        units.add(row["label"], row["returned"])
    tables = [
        summary,
        hourly,
        categories,
        subtypes,
        areas,
        replies,
        levels,
        trend,
        feeders,
        transformer,
        units,
    ]
    return {table.key: table for table in tables}


# --- Frequent outages (频繁停电) ----------------------------------------------------------------


def frequent_outage_tables(ranking: Any) -> dict[str, Table]:
    """The feeders and transformer areas ranked by outages in the rolling window ending at
    the report's end (`dashboard.selectors.frequent_outage_ranking`), with their level."""
    window_days, until = ranking.window_days, ranking.until
    feeders, transformer_areas = ranking.feeders, ranking.transformer_areas
    levels = {"warning": _("Outage warning"), "frequent": _("Frequent outages")}
    to = timezone.localtime(until).strftime("%Y-%m-%d %H:%M")
    tables = {}
    for key, title, header, rows in (
        (
            "frequent_feeders",
            _("Outages by feeder (%(days)s days to %(to)s)"),
            _("Feeder"),
            feeders,
        ),
        (
            "frequent_transformer_areas",
            _("Outages by transformer area (%(days)s days to %(to)s)"),
            _("Transformer area"),
            transformer_areas,
        ),
    ):
        table = Table(
            key,
            title % {"days": window_days, "to": to},
            [header, _("Number of outages"), _("Level")],
        )
        for place in rows:
            table.add(place.name, place.outages, str(levels.get(place.level, "")))
        tables[key] = table
    return tables


# --- Drill-down rows as tables ------------------------------------------------------------------


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def drill_table(kind: str, rows: Iterable[Any], title: str) -> Table:
    if kind == "calls":
        table = Table(
            "calls",
            title,
            [
                _("Call id"),
                _("Caller number"),
                _("Ringing since"),
                _("Answered at"),
                _("Hung up at"),
                _("Wait (s)"),
                _("Agent"),
                _("Disposition"),
            ],
            personal=Field.PHONE,
        )
        dispositions = dict(Call._meta.get_field("disposition").choices)
        for call in rows:
            wait = call.wait_seconds
            table.add(
                call.call_id,
                phone_in_list(call.caller_phone),
                _local(call.ring_at),
                _local(call.answer_at),
                _local(call.hangup_at),
                round(wait, 1) if wait is not None else None,
                _person(call.agent),
                str(dispositions.get(call.disposition, call.disposition)),
            )
        return table
    if kind == "timers":
        table = Table(
            "timers",
            title,
            [
                _("Order number"),
                _("Category"),
                _("Area type"),
                _("Handling unit"),
                _("Timer"),
                _("Started at"),
                _("Due at"),
                _("Stopped at"),
                _("Late by (min)"),
            ],
        )
        now = timezone.now()
        for timer in rows:
            ticket = timer.ticket
            end = timer.stopped_at or now
            late = (
                round((end - timer.due_at).total_seconds() / 60, 1) if end > timer.due_at else None
            )
            table.add(
                Cell(ticket.number, f"ticket:{ticket.number}"),
                ticket.get_category_display(),
                ticket.get_area_type_display(),
                str(timer.handling_unit or ""),
                timer.get_name_display(),
                _local(timer.started_at),
                _local(timer.due_at),
                _local(timer.stopped_at),
                late,
            )
        return table
    table = Table(
        "orders",
        title,
        [
            _("Order number"),
            _("Category"),
            _("Status"),
            _("Accepted at"),
            _("Area type"),
            _("Handling unit"),
            _("Owner agent"),
            _("Dispatched at"),
            _("Dispatch time (s)"),
            _("Satisfaction"),
            _("Customer"),
            _("Caller number"),
            _("Address"),
            _("What the caller reports"),
        ],
        personal=Field.PHONE,
    )
    satisfaction = dict(Satisfaction.choices)
    for ticket in rows:
        dispatch_time = getattr(ticket, "dispatch_time", None)
        table.add(
            Cell(ticket.number, f"ticket:{ticket.number}"),
            ticket.get_category_display(),
            ticket.get_status_display(),
            _local(ticket.created_at),
            ticket.get_area_type_display(),
            str(ticket.handling_unit or ""),
            _person(ticket.owner),
            _local(getattr(ticket, "first_dispatch_at", None) or ticket.dispatched_at),
            round(dispatch_time.total_seconds(), 1) if dispatch_time is not None else None,
            str(satisfaction.get(ticket.satisfaction, "")),
            ticket.customer.name if ticket.customer_id else "",
            phone_in_list(ticket.caller_phone),
            ticket.address,
            ticket.description,
        )
    return table


# --- Writers ---------------------------------------------------------------------------------------


def to_csv(tables: Sequence[Table]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                writer.writerow([])
            writer.writerow([neutralised(table.title)])
        writer.writerow([neutralised(header) for header in table.headers])
        for row in table.rows:
            writer.writerow([neutralised(_plain(cell.value)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(tables: Sequence[Table]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used: set[str] = set()
    for table in tables:
        # Sheet names: at most 31 characters, no []:*?/\ and unique.
        name = "".join(ch for ch in table.title if ch not in "[]:*?/\\")[:31] or table.key
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        sheet = workbook.create_sheet(name)
        sheet.append([_xlsx_text(header) for header in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_text(_plain(cell.value)) for cell in row])
        for column, header in enumerate(table.headers, start=1):
            width = max(
                [len(str(header)) * 2] + [len(str(r[column - 1])) for r in table.rows[:200]]
            )
            sheet.column_dimensions[get_column_letter(column)].width = min(60, max(8, width + 2))
        sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (int, float, str)):
        return value
    return str(value)


# What a spreadsheet reads as the start of a formula (tab and carriage return too: some
# programs drop them and read on), and the full-width forms a Chinese input method types,
# which some spreadsheet programs take for the same signs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def neutralised(value: Any) -> Any:
    """A text cell that cannot run as a formula: a leading single quote before a cell that
    would (=1+1 → '=1+1), also when spaces come first. Numbers are numbers and stay as they are.
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_START):
        return "'" + value
    return value


def _xlsx_text(value: Any) -> Any:
    """XLSX cannot hold most control characters (openpyxl refuses the whole file): they are
    dropped, then the cell is neutralised as in CSV — openpyxl would store "=…" as a formula."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return neutralised(value)
