"""Cursor pagination: every page is one indexed range scan, on page 1 or page 20,000.

Offset pagination makes PostgreSQL walk and discard every earlier row and count them all;
with millions of orders that is seconds per request. A cursor remembers where the last page
ended, so the next page starts there.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


def _is_instant(text: str) -> bool:
    try:
        return parse_datetime(text) is not None
    except ValueError:  # well formed but impossible, e.g. month 13
        return False


# A position names the last row shown by both its ordering values: "<time>|<id>".
_SEPARATOR = "|"


def _split_position(position: str) -> tuple[str, int | None]:
    """(time, id) of a position; id is None in a position that names only the time."""
    instant, separator, key = position.rpartition(_SEPARATOR)
    if not separator:
        return position, None
    return instant, int(key) if key.isdigit() else -1


class ApiCursorPagination(CursorPagination):
    """Keyset pages on (time, id), both descending.

    DRF's cursor remembers only the time of the last row shown and counts rows of equal time
    with an offset: where many orders share a time (a bulk import, an outage's calls logged
    in the same second) every page then re-reads and skips the rows before it. Here the
    position holds the id as well, so each page starts exactly after the last row shown:
    `time <= t AND (time < t OR id < i)` — the first part bounds the index range scan, the
    second only sorts out the rows of that one instant. No offset is ever needed.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # The last field is a tie-breaker that keeps the order total.
    ordering = ("-created_at", "-id")

    def _get_position_from_instance(self, instance, ordering) -> str:
        time_field, key_field = (name.lstrip("-") for name in ordering)
        if isinstance(instance, dict):
            return f"{instance[time_field]}{_SEPARATOR}{instance[key_field]}"
        return f"{getattr(instance, time_field)}{_SEPARATOR}{getattr(instance, key_field)}"

    def paginate_queryset(self, queryset, request, view=None):
        cursor = self.decode_cursor(request)
        instant, key = (
            (None, None)
            if cursor is None or cursor.position is None
            else (_split_position(cursor.position))
        )
        # A cursor handed out before positions held the id (key None) pages DRF's way.
        keyset = key is not None
        if keyset:
            time_field, key_field = (name.lstrip("-") for name in self.ordering)
            # Forward on a descending order reads older rows; a reverse cursor (the previous
            # page) reads newer ones.
            before, before_or_at = ("gt", "gte") if cursor.reverse else ("lt", "lte")
            queryset = queryset.filter(
                Q(**{f"{time_field}__{before_or_at}": instant})
                & (Q(**{f"{time_field}__{before}": instant}) | Q(**{f"{key_field}__{before}": key}))
            )
        # DRF orders, slices and works out the links from the cursor decoded above (not a
        # second time); a keyset position is already applied, so DRF sees the cursor
        # without it and is told afterwards.
        given = cursor._replace(position=None) if keyset else cursor
        self.decode_cursor = lambda request: given
        try:
            page = super().paginate_queryset(queryset, request, view)
        finally:
            del self.decode_cursor
        if keyset:
            self.cursor = cursor
            if cursor.reverse:
                self.has_next, self.next_position = True, cursor.position
            else:
                self.has_previous, self.previous_position = True, cursor.position
        return page

    def decode_cursor(self, request):
        # A cursor the client made up or mangled is a mistake in the request (400), not a
        # missing resource (DRF says 404).
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            invalid = True
        else:
            # The position is the time and id of the last row shown; anything else would
            # reach the database as a malformed date or key.
            invalid = cursor is not None and cursor.position is not None
            if invalid:
                instant, key = _split_position(cursor.position)
                invalid = not _is_instant(instant) or (key is not None and key < 0)
        if invalid:
            raise ValidationError({self.cursor_query_param: [_("Invalid cursor.")]})
        return cursor

    def get_page_size(self, request):
        if self.page_size_query_param in request.query_params:
            raw = request.query_params[self.page_size_query_param]
            try:
                value = int(raw)
            except ValueError:
                value = 0
            if not 1 <= value <= self.max_page_size:
                raise ValidationError(
                    {
                        self.page_size_query_param: [
                            _("Give a whole number from 1 to %(max)d.")
                            % {"max": self.max_page_size}
                        ]
                    }
                )
            return value
        return self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": self.max_page_size,
                }
        return parameters


class BreachCursorPagination(ApiCursorPagination):
    ordering = ("-occurred_at", "-id")
