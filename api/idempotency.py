"""`Idempotency-Key` for every POST of an integration client.

The IVR and the service halls retry when an answer is slow to come. With a key, the
retry gets the first answer again — same status, same bytes — instead of a second order;
the same key with another body (or on another endpoint) is refused with 409.

The work, the key and the stored answer commit together in one transaction: an order is
never stored without its key, nor a key without its order. The key is written last, with
the answer. A request that finds the key taken — a repeat, or one of several sent at once
(PostgreSQL makes the second insert of a key wait for the first transaction) — fails on
the key's unique index, which undoes its own work, and answers with what the first one
stored. A repeat thus redoes the work once and undoes it, which retries (rare, minutes
apart) can afford; the first-time path writes the key once, with no extra read. An answer that is an error (400, 409
…) stores nothing, so the client may correct the request and send it again under the same
key. A person signed in with the browser sends no key; the header is then ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from api.models import ApiClient
from api.permissions import client_of
from api.services import (
    idempotency_answer,
    idempotency_record,
    request_fingerprint,
)

HEADER = "Idempotency-Key"
# How WSGI hands the header over (`request.headers` would build the whole header map for it).
_META_KEY = "HTTP_IDEMPOTENCY_KEY"
REPLAY_HEADER = "Idempotent-Replayed"
# Printable ASCII without spaces, as UUIDs and the usual random keys are.
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")

_renderer = JSONRenderer()


def _json_response(status_code: int, body: bytes | str, *, replayed: bool = False) -> HttpResponse:
    response = HttpResponse(body, status=status_code, content_type="application/json")
    if replayed:
        response[REPLAY_HEADER] = "true"
    return response


def idempotency_key_of(request) -> str | None:
    raw = request.META.get(_META_KEY)
    if raw is None:
        return None
    if not _KEY_PATTERN.match(raw):
        raise ValidationError(
            {HEADER: [_("Use 1 to 255 printable characters without spaces (a UUID is ideal).")]}
        )
    return raw


def respond_idempotently(request, perform: Callable[[], tuple[int, Any]]) -> HttpResponse:
    """Run `perform` (which returns status and data) at most once per client and key.

    Without a key (or for a signed-in person) `perform` simply runs. With one, it runs in
    the transaction that stores the key with the answer; a repeat returns the stored bytes.
    """
    key = idempotency_key_of(request)
    client = client_of(request)
    if key is None or client is None:
        status_code, data = perform()
        return _json_response(status_code, _renderer.render(data))
    fingerprint = request_fingerprint(method=request.method, path=request.path, data=request.data)
    try:
        return _answer_once(client, key, fingerprint, perform)
    except IntegrityError:
        # The key was taken and has no answer: its first holder rolled back (or the purge
        # removed it) in between, so it is free now.
        return _answer_once(client, key, fingerprint, perform)


def _answer_once(
    client: ApiClient, key: str, fingerprint: str, perform: Callable[[], tuple[int, Any]]
) -> HttpResponse:
    """`perform`'s answer, kept under the key in the work's transaction; or, when the work
    or the key's insert fails and the key has an answer, that one. Raises otherwise."""
    try:
        with transaction.atomic():
            status_code, data = perform()
            body = _renderer.render(data).decode("utf-8")
            idempotency_record(
                client=client, key=key, fingerprint=fingerprint, status_code=status_code, body=body
            )
    except Exception:
        # A repeat fails where the first succeeded (the order is already dispatched) or
        # finds the key taken: either way the first answer is the answer, if there is one.
        stored = idempotency_answer(client=client, key=key, fingerprint=fingerprint)
        if stored is None:
            raise
        return _json_response(stored.status_code, stored.body, replayed=True)
    return _json_response(status_code, body)
