"""Reads behind the endpoints, with the row-level rule of who sees what.

An integration client with the read scope sees every order (the IVR reads out the state of
any order a caller names); a signed-in person sees what `tickets.selectors.ticket_visible_to`
lets them see. Every list is built so a page costs a fixed number of queries.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from api.models import ApiClient
from customers.models import Customer, HandlingUnit
from servicedesk import sql
from sla.models import Breach
from sla.selectors import running_deadlines_json_sql, running_deadlines_of, running_timers_prefetch
from tickets.models import SubType, Ticket, TicketEvent
from tickets.selectors import ticket_visible_to


def one_or_none(queryset: QuerySet):
    """The row of a lookup by a unique key, or None: like .first() without the ORDER BY it
    adds, which costs query building on every request and can mislead the planner."""
    return next(iter(queryset.order_by()[:1]), None)


def _sees_every_order(client: ApiClient | None) -> bool:
    # An integration client takes and reads orders for the whole desk; a person sees what
    # their role and unit allow (tickets.permissions).
    return client is not None


def ticket_visible_to_requester(*, client: ApiClient | None, user) -> QuerySet[Ticket]:
    if _sees_every_order(client):
        return Ticket.objects.all()
    return ticket_visible_to(user)


# What a list row shows: 13 of an order's 60 columns, the codes joined in.
LIST_ROW_FIELDS = (
    "id",
    "number",
    "category",
    "subtype__code",
    "channel",
    "status",
    "caller_phone",
    "customer__account_number",
    "address",
    "area_type",
    "handling_unit__code",
    "supervised",
    "created_at",
    "updated_at",
)


@cache
def _every_row() -> QuerySet:
    # Resolving thirteen field paths and three joins is a third of building a page's query;
    # the result depends on nothing but the model. Never evaluated itself: callers get a clone.
    return Ticket.objects.values(*LIST_ROW_FIELDS)


def ticket_rows_for_api(*, client: ApiClient | None, user) -> QuerySet:
    """Orders as plain rows (dicts) of what a list shows, for cursor pages: one query per page.

    Plain values, not model instances: a page of 50 orders with three joined codes is then
    a tenth of the Python work. Add the deadlines with `ticket_rows_with_deadlines`.
    """
    if _sees_every_order(client):
        return _every_row().all()
    return ticket_visible_to(user).values(*LIST_ROW_FIELDS)


# --- A list page PostgreSQL writes as JSON ---------------------------------------------------

# A list row as TicketListItemSerializer writes it: key → SQL over the order (t) and its
# joined sub-type (s), customer (c) and unit (h). The tests hold the two to the same output.
_ROW_JSON = (
    ("number", "t.number"),
    ("category", "t.category"),
    ("subtype", "s.code"),
    ("channel", "t.channel"),
    ("status", "t.status"),
    ("caller_phone", "t.caller_phone"),
    ("customer_account", "c.account_number"),
    ("address", "t.address"),
    ("area_type", "t.area_type"),
    ("handling_unit", "h.code"),
    ("supervised", "t.supervised"),
    # api/migrations/0003: a time as api.serializers.iso writes it.
    ("created_at", "api_iso_beijing(t.created_at)"),
    ("updated_at", "api_iso_beijing(t.updated_at)"),
    ("deadlines", running_deadlines_json_sql("t.id", write_time="api_iso_beijing")),
)
_OPERATORS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
# The page's order, and the one a cursor to the previous page reads in.
NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")


def _where(node: Q | tuple[str, Any]) -> tuple[str, list[Any]]:
    """SQL over the order (t) for a Q tree of lookups on its columns, and its values."""
    if isinstance(node, Q):
        parts = [_where(child) for child in node.children]
        # A child that is itself several conditions keeps them together.
        text = f" {node.connector} ".join(
            f"({condition})" if isinstance(child, Q) and len(child) > 1 and len(parts) > 1
            else condition
            for child, (condition, _values) in zip(node.children, parts, strict=True)
        )
        values = [value for _condition, part in parts for value in part]
        return (f"NOT ({text})" if node.negated and text else text), values
    lookup, value = node
    name, _, operator = lookup.partition("__")
    operator = operator or "exact"
    if operator not in _OPERATORS:
        raise ValueError(f"TicketPage cannot filter on {lookup}")
    column = Ticket._meta.get_field(name).column
    if isinstance(value, bool) and operator == "exact":
        # Written out, as the ORM writes it: a partial index on the flag serves the plan of
        # `WHERE flag`, never a plan made for any value of a parameter.
        return (f"t.{column}" if value else f"NOT t.{column}"), []
    return f"t.{column} {_OPERATORS[operator]} %s", [value]


@lru_cache(maxsize=512)  # the shapes a list is asked in: bounded like servicedesk.sql's
def _page_sql(conditions: tuple[str, ...], descending: bool, limit: int, offset: int) -> str:
    direction = "DESC" if descending else "ASC"
    # row_to_json of a row with these names writes what json_build_object would, compact
    # and in less of the database's time (it looks each column's type up once).
    fields = ", ".join(f'{expression} AS "{key}"' for key, expression in _ROW_JSON)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT t.created_at, t.id, row_to_json(list_row)::text "
        f"FROM {Ticket._meta.db_table} t "
        f"LEFT OUTER JOIN {SubType._meta.db_table} s ON s.id = t.subtype_id "
        f"LEFT OUTER JOIN {Customer._meta.db_table} c ON c.id = t.customer_id "
        f"LEFT OUTER JOIN {HandlingUnit._meta.db_table} h ON h.id = t.handling_unit_id "
        f"CROSS JOIN LATERAL (SELECT {fields}) list_row"
        f"{where} ORDER BY t.created_at {direction}, t.id {direction} LIMIT {limit}"
        + (f" OFFSET {offset}" if offset else "")
    )


class TicketPage:
    """The orders of the list with each row already written as JSON, by PostgreSQL.

    A list page read as rows and written by the serializer spends most of its time in
    Python: building the query, converting 700 values, writing them as JSON, and a second
    query for the running timers. Here the database writes each row's JSON, deadlines
    included, in the one query of the page: a list page costs the app a third of the CPU.

    It answers the part of a QuerySet that the list's filters (django-filter, see
    `api.filters.LeanFilterSet`) and DRF's cursor pages use: `filter` with lookups on the
    order's own columns and Q trees of them, `order_by`, `all` and a slice, which gives
    dicts of `created_at`, `id` (the cursor's position) and `json`. For integration clients
    on PostgreSQL, who see every order (`ticket_page_for_api`); anything else goes through
    the serializer.
    """

    model = Ticket  # what django-filter's FilterSet reads off its queryset

    def __init__(self, conditions: tuple[tuple[str, tuple[Any, ...]], ...] = (), *,
                 descending: bool = True) -> None:
        self._conditions = conditions  # (SQL with %s, its values)
        self._descending = descending

    @staticmethod
    @cache
    def takes(filterset_class: type) -> bool:
        """Whether `filter` can apply every filter of this FilterSet class: each compares a
        column of the order with the value given."""
        return all(
            filter_.method is None
            and not filter_.exclude
            and filter_.lookup_expr in _OPERATORS
            and "__" not in filter_.field_name
            for filter_ in filterset_class.base_filters.values()
        )

    def all(self) -> TicketPage:
        return self

    def filter(self, *conditions: Q, **lookups: Any) -> TicketPage:
        """The orders that also match: `column__operator=value` lookups (exact, gt, gte, lt,
        lte) and Q trees of them, as for a QuerySet."""
        condition, values = _where(Q(*conditions, **lookups))
        if not condition:
            return self
        return TicketPage(
            (*self._conditions, (condition, tuple(values))), descending=self._descending
        )

    def order_by(self, *ordering: str) -> TicketPage:
        if ordering not in (NEWEST_FIRST, OLDEST_FIRST):
            raise ValueError(f"TicketPage has no order {ordering}")
        return TicketPage(self._conditions, descending=ordering == NEWEST_FIRST)

    def __getitem__(self, window: slice) -> list[dict[str, Any]]:
        offset = window.start or 0
        text = _page_sql(
            tuple(condition for condition, _values in self._conditions),
            self._descending,
            window.stop - offset,
            offset,
        )
        params = [value for _condition, values in self._conditions for value in values]
        # One plan per shape for every value, as for the rows of `ticket_rows_for_api`.
        with sql.prepared_reads(), connection.cursor() as cursor:
            cursor.execute(text, params)
            return [
                {"created_at": created_at, "id": key, "json": row}
                for created_at, key, row in cursor.fetchall()
            ]


def ticket_page_for_api(*, client: ApiClient | None, filters: type) -> TicketPage | None:
    """The list as PostgreSQL writes it (TicketPage) for a client who sees every order;
    None where the rows go through the serializer: a person's row-level rule, SQLite, or
    a filter of the FilterSet class `filters` that TicketPage cannot apply."""
    if (
        _sees_every_order(client)
        and connection.vendor == "postgresql"
        and TicketPage.takes(filters)
    ):
        return TicketPage()
    return None


def deadlines_by_ticket(ticket_ids: list[int]) -> dict[int, dict[str, datetime]]:
    """Order id → {timer name: due time (UTC)} of the timers running now: one query, plain
    values, "running" as the SLA engine defines it."""
    deadlines: dict[int, dict[str, datetime]] = {ticket_id: {} for ticket_id in ticket_ids}
    for ticket_id, name, due_at in running_deadlines_of(ticket_ids):
        deadlines[ticket_id][name] = due_at
    return deadlines


def ticket_rows_with_deadlines(rows: list[dict]) -> list[dict]:
    """Put each row's running timers (name → due time) on it as `deadlines`: one query."""
    deadlines = deadlines_by_ticket([row["id"] for row in rows])
    for row in rows:
        row["deadlines"] = deadlines[row["id"]]
    return rows


def ticket_get_for_api(*, client: ApiClient | None, user, number: str) -> Ticket:
    """The order with its running timers, breaches and timeline; 404 when not visible.

    Four queries whatever the length of the timeline.
    """
    ticket = one_or_none(
        ticket_visible_to_requester(client=client, user=user)
        .select_related("customer", "subtype", "detail", "handling_unit", "handler", "owner")
        .prefetch_related(
            running_timers_prefetch(),
            Prefetch(
                "breaches",
                queryset=Breach.objects.select_related("handling_unit").order_by(
                    "occurred_at", "id"
                ),
                to_attr="breach_list",
            ),
            Prefetch(
                "events",
                queryset=TicketEvent.objects.select_related("actor").order_by("at", "id"),
                to_attr="timeline",
            ),
        )
        .filter(number=number)
    )
    if ticket is None:
        raise Http404(number)
    return ticket


def ticket_get_for_action(*, client: ApiClient | None, user, number: str) -> Ticket:
    """The order an action is about (the service re-reads it under a row lock); 404 when not visible."""
    ticket = one_or_none(
        ticket_visible_to_requester(client=client, user=user).filter(number=number)
    )
    if ticket is None:
        raise Http404(number)
    return ticket


def breach_list_for_api(*, client: ApiClient | None, user) -> QuerySet[Breach]:
    """Recorded breaches, newest first, with the order number and unit code in the same query."""
    qs = Breach.objects.select_related("ticket", "handling_unit")
    if client is None:
        visible = ticket_visible_to(user)
        # Supervisors see every order: no "ticket IN (all two million orders)" semi-join then.
        if visible.query.has_filters():
            qs = qs.filter(ticket__in=visible)
    return qs
