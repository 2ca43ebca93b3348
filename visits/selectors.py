"""Reads of the return visits: the queue, one order's or outage's visit, the report's
per-unit counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404

from outages.models import Outage
from sla.models import Timer, TimerName
from tickets.models import Satisfaction, Status, Ticket
from tickets.selectors import ticket_get_for_user
from visits.models import Visit, VisitAttempt, VisitReason, VisitStatus

# One screen of calls to make; the next ones come up as these are done.
QUEUE_LIMIT = 50


@dataclass
class QueueItem:
    """One line of the queue: an order (with its visit clock) or an outage."""

    due_at: datetime
    url: str = ""  # the visit page, set by the view
    category: str = ""  # the order category label, set by the view
    ticket: Ticket | None = None
    timer: Timer | None = None
    outage: Outage | None = None
    visit: Visit | None = None  # the visit in progress (attempts so far), if any
    orders_covered: int = 1

    @property
    def key(self) -> tuple:
        return (self.due_at, 0 if self.ticket else 1, (self.ticket or self.outage).pk)

    @property
    def breached(self) -> bool:
        return bool(self.timer and self.timer.breached_at)


@dataclass
class Queue:
    items: list[QueueItem] = field(default_factory=list)
    limit: int = QUEUE_LIMIT

    @property
    def full(self) -> bool:
        return len(self.items) >= self.limit


def _outages_due() -> QuerySet[Outage]:
    """Outages over whose one visit is not recorded, with orders resolved with them."""
    return (
        Outage.objects.filter(visit_due_at__isnull=False)
        .filter(Exists(Ticket.objects.filter(outage=OuterRef("pk"), status=Status.RESOLVED)))
        .exclude(
            Exists(Visit.objects.filter(outage=OuterRef("pk")).exclude(status=VisitStatus.OPEN))
        )
    )


def visit_queue(*, limit: int = QUEUE_LIMIT) -> Queue:
    """Resolved orders whose visit clock runs, and ended outages not yet visited, nearest
    visit deadline first; the first `limit`.

    Orders resolved with an outage run no visit clock (the outage is listed once instead);
    a child order never reaches `resolved` (its master is listed). Four queries, whatever
    the length: the clocks with their orders (partial index `sla_timer_visit_due_idx`),
    the outages, the visits in progress, the children counts.
    """
    timers = list(
        Timer.objects.filter(name=TimerName.VISIT, stopped_at__isnull=True)
        .select_related("ticket", "ticket__handling_unit")
        # What the queue shows, not the order's every column (its JSON, its texts).
        .only(
            "due_at",
            "breached_at",
            "ticket__number",
            "ticket__category",
            "ticket__status",
            "ticket__handling_unit__name",
        )
        .order_by("due_at", "id")[:limit]
    )
    outages = list(
        _outages_due()
        .annotate(resolved_orders=Count("tickets", filter=Q(tickets__status=Status.RESOLVED)))
        .order_by("visit_due_at", "id")[:limit]
    )
    items = [QueueItem(due_at=t.due_at, ticket=t.ticket, timer=t) for t in timers]
    items += [
        QueueItem(due_at=o.visit_due_at, outage=o, orders_covered=o.resolved_orders)
        for o in outages
    ]
    items = sorted(items, key=lambda item: item.key)[:limit]
    ticket_ids = [i.ticket.pk for i in items if i.ticket]
    outage_ids = [i.outage.pk for i in items if i.outage]
    if items:
        open_visits = Visit.objects.filter(
            Q(ticket_id__in=ticket_ids) | Q(outage_id__in=outage_ids), status=VisitStatus.OPEN
        )
        by_ticket = {v.ticket_id: v for v in open_visits if v.ticket_id}
        by_outage = {v.outage_id: v for v in open_visits if v.outage_id}
        children = dict(
            Ticket.objects.filter(master_id__in=ticket_ids)
            .values("master_id")
            .order_by()
            .annotate(n=Count("pk"))
            .values_list("master_id", "n")
        )
        for item in items:
            if item.ticket:
                item.visit = by_ticket.get(item.ticket.pk)
                item.orders_covered = 1 + children.get(item.ticket.pk, 0)
            else:
                item.visit = by_outage.get(item.outage.pk)
    return Queue(items=items, limit=limit)


@dataclass
class VisitPage:
    """What the page of one visit shows."""

    ticket: Ticket | None
    outage: Outage | None
    visit: Visit | None
    attempts: list[VisitAttempt]
    timer: Timer | None
    due: bool  # resolved (or over) and not yet visited: the forms are offered
    orders_covered: int


def visit_page_for_ticket(*, user, number: str) -> VisitPage:
    """The order's visit: 404 for an order the user may not see."""
    ticket = ticket_get_for_user(user=user, number=number)
    visit = ticket.visits.filter(status=VisitStatus.OPEN).first()
    timer = (
        Timer.objects.filter(ticket=ticket, name=TimerName.VISIT).order_by("-started_at").first()
    )
    due = ticket.status == Status.RESOLVED and not ticket.master_id and not ticket.outage_id
    return VisitPage(
        ticket=ticket,
        outage=None,
        visit=visit,
        attempts=list(visit.attempt_rows.select_related("by")) if visit else [],
        timer=timer,
        due=due,
        orders_covered=1 + ticket.children.count(),
    )


def visit_page_for_outage(*, number: str) -> VisitPage:
    outage = Outage.objects.filter(number=number).first()
    if outage is None:
        raise Http404(number)
    visit = Visit.objects.filter(outage=outage).first()
    pending = outage.visit_due_at is not None and (
        visit is None or visit.status == VisitStatus.OPEN
    )
    return VisitPage(
        ticket=None,
        outage=outage,
        visit=visit,
        attempts=list(visit.attempt_rows.select_related("by")) if visit else [],
        timer=None,
        due=pending,
        orders_covered=outage.tickets.filter(status=Status.RESOLVED).count(),
    )


def visit_reasons_active() -> list[VisitReason]:
    return list(VisitReason.objects.filter(is_active=True))


def visit_counts_by_unit(*, start: datetime, end: datetime, unit: str = "") -> list[dict]:
    """Visits closed in [start, end) per handling unit: done, dissatisfied, unreachable.

    One row per visit, whatever the orders it answered for (an outage's visit counts once);
    a dissatisfied visit counts against the unit that handled the order when it was visited.
    `unit`: a handling unit's code (the report's filter), blank for every unit. Read
    through `visit_closed_unit_idx`.
    """
    rows = Visit.objects.filter(closed_at__gte=start, closed_at__lt=end).exclude(
        status=VisitStatus.OPEN
    )
    if unit:
        # The report's filter is a unit code.
        rows = rows.filter(handling_unit__code=unit)
    return list(
        rows.values("handling_unit_id", "handling_unit__name")
        .order_by()
        .annotate(
            visited=Count("pk", filter=Q(status=VisitStatus.DONE)),
            dissatisfied=Count(
                "pk", filter=Q(status=VisitStatus.DONE, satisfaction=Satisfaction.DISSATISFIED)
            ),
            unreachable=Count("pk", filter=Q(status=VisitStatus.UNREACHABLE)),
        )
        .order_by("-dissatisfied", "-unreachable", "handling_unit__name")
    )
