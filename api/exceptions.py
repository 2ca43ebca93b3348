"""One error shape for every answer that is not a success.

    {"detail": "<one sentence>", "code": "<stable code>", "errors": {"<field>": ["<message>", …]}}

`errors` is there for 400 only: one list of messages per field, in the request's language
(Chinese unless the client asks for `Accept-Language: en`). The domain errors of the
services map here too: DomainError → 400, NotAllowed → 409.

When the database or the broker cannot be reached (a dropped connection, a restart, a
deadlock the database broke), the answer is 503 with `"code": "unavailable"` and
`Retry-After`. Its work was rolled back with its transaction — or, had the commit reached
the database just before the connection went, it is kept under the request's
Idempotency-Key — so the client sends the same request again with the same key and gets
the one order either way. Anything else no handler knows is a JSON 500 for an API path
(`server_error`), never Django's HTML page.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerUnavailable
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.services import IdempotencyKeyReused
from servicedesk.errors import DomainError, NotAllowed
from servicedesk.middleware import API_PREFIX

logger = logging.getLogger(__name__)

# What says "the database or the broker is not there right now", not "this request is
# wrong": a connection lost or refused, a statement the database cancelled or broke off as a
# deadlock. (IntegrityError and DataError are the request's own and are not among them.)
UNAVAILABLE = (OperationalError, InterfaceError, BrokerUnavailable)
# Seconds a client should wait before sending it again: a dropped connection is back at once.
RETRY_AFTER = "1"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The request conflicts with the current state.")
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "too_large"


def field_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten DRF's nested error detail into {"field": [messages]} ("items.0.name" for nesting)."""
    if isinstance(detail, dict):
        children = list(detail.items())
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        # A list of nested serializers: the items without errors come back empty.
        children = [(index, value) for index, value in enumerate(detail) if value]
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix or "non_field_errors": [str(message) for message in messages]}
    out: dict[str, list[str]] = {}
    for name, value in children:
        key = f"{prefix}.{name}" if prefix else str(name)
        for sub_key, messages in field_errors(value, key).items():
            out.setdefault(sub_key, []).extend(messages)
    return out


def _body(detail: str, code: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"detail": str(detail), "code": code}
    if errors is not None:
        body["errors"] = errors
    return body


def _invalid(errors: dict[str, list[str]], detail: str | None = None) -> Response:
    return Response(
        _body(detail or _("Please correct the marked fields."), "invalid", errors),
        status=status.HTTP_400_BAD_REQUEST,
    )


def _unavailable_body() -> dict[str, Any]:
    return _body(
        _("The service is briefly unavailable. Please send the request again."), "unavailable"
    )


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER for the API views. Anything it does not know stays a 500
    (answered as JSON by `server_error`)."""
    set_rollback()
    if isinstance(exc, UNAVAILABLE):
        logger.warning("API request answered 503: %s", exc, exc_info=exc)
        return Response(
            _unavailable_body(),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": RETRY_AFTER},
        )
    if isinstance(exc, NotAllowed):
        return Response(_body(exc.message, "not_allowed"), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        return _invalid(exc.field_errors or {"non_field_errors": [exc.message]}, exc.message)
    if isinstance(exc, IdempotencyKeyReused):
        return Response(
            _body(
                _("This Idempotency-Key was already used with another request."),
                "idempotency_key_reused",
            ),
            status=status.HTTP_409_CONFLICT,
        )
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(_("Not found."))
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        return _invalid(field_errors(exc.detail))
    if isinstance(exc, exceptions.ParseError):
        return Response(
            _body(exc.detail, "parse_error", {"non_field_errors": [str(exc.detail)]}),
            status=exc.status_code,
            headers=headers,
        )
    code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    return Response(_body(exc.detail, code), status=exc.status_code, headers=headers)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500: for an API path the error in the API's shape, as JSON (503 when
    the database or the broker was unreachable, e.g. in a middleware before any view);
    Django's own page for everything else. Django has logged the traceback already."""
    if not request.path_info.startswith(API_PREFIX):
        return defaults.server_error(request)
    # Called while Django handles the exception, so it is still the current one.
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE):
        response = _json(_unavailable_body(), status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = RETRY_AFTER
        return response
    body = _body(_("Something went wrong on our side. Please try again later."), "server_error")
    return _json(body, status.HTTP_500_INTERNAL_SERVER_ERROR)


def _json(body: dict[str, Any], status_code: int) -> HttpResponse:
    # Plain Django: DRF's renderer needs a view, and this answers where there was none.
    return JsonResponse(body, status=status_code, json_dumps_params={"ensure_ascii": False})
