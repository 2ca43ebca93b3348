"""One error shape for every answer that is not a success.

    {"detail": "<one sentence>", "code": "<stable code>", "errors": {"<field>": ["<message>", …]}}

`errors` is there for 400 only: one list of messages per field, in the request's language
(Chinese unless the client asks for `Accept-Language: en`). The domain errors of the
services map here too: DomainError → 400, NotAllowed → 409.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from api.services import IdempotencyKeyReused
from servicedesk.errors import DomainError, NotAllowed


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


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER for the API views. Anything it does not know stays a 500."""
    set_rollback()
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
