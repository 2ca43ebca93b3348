"""Cursor pagination: every page is one indexed range scan, on page 1 or page 20,000.

Offset pagination makes PostgreSQL walk and discard every earlier row and count them all;
with millions of orders that is seconds per request. A cursor remembers where the last page
ended, so the next page starts there.
"""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


def _is_instant(text: str) -> bool:
    try:
        return parse_datetime(text) is not None
    except ValueError:  # well formed but impossible, e.g. month 13
        return False


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    # The last field is a tie-breaker that keeps the order total.
    ordering = ("-created_at", "-id")

    def decode_cursor(self, request):
        # A cursor the client made up or mangled is a mistake in the request (400), not a
        # missing resource (DRF says 404).
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            invalid = True
        else:
            # The position is the time of the last row shown; anything else would reach the
            # database as a malformed date.
            invalid = (
                cursor is not None
                and cursor.position is not None
                and not _is_instant(cursor.position)
            )
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
