"""Writes of the API app: integration clients and their tokens, and idempotency records.

Work orders and calls are never written here: the endpoints call `tickets.services`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiClient, IdempotencyRecord, Scope, token_hash
from api.selectors import one_or_none
from servicedesk.errors import DomainError

TOKEN_PREFIX = "sd_"


def _new_token() -> str:
    # 30 random bytes = 240 bits, URL-safe; the prefix lets secret scanners spot a leaked token.
    return TOKEN_PREFIX + secrets.token_urlsafe(30)


def _clean_scopes(scopes: list[str] | tuple[str, ...]) -> list[str]:
    unknown = sorted(set(scopes) - set(Scope.values))
    if unknown:
        message = _("Unknown scope(s): %(scopes)s. Choose from: %(choices)s.") % {
            "scopes": ", ".join(unknown),
            "choices": ", ".join(Scope.values),
        }
        raise DomainError(message, field_errors={"scopes": [message]})
    # Kept in the declared order, so the admin and the command line show them alike.
    return [scope for scope in Scope.values if scope in set(scopes)]


@transaction.atomic
def api_client_create(
    *, name: str, scopes: list[str] | tuple[str, ...], note: str = ""
) -> tuple[ApiClient, str]:
    """Register an integration client. Returns the client and its token, the only time the
    token exists in clear: only its hash is stored."""
    name = (name or "").strip()
    if not name:
        message = _("Give the client a name.")
        raise DomainError(message, field_errors={"name": [message]})
    if ApiClient.objects.filter(name=name).exists():
        message = _("A client with this name already exists.")
        raise DomainError(message, field_errors={"name": [message]})
    token = _new_token()
    client = ApiClient.objects.create(
        name=name[:60],
        scopes=_clean_scopes(scopes),
        note=note[:200],
        token_hash=token_hash(token),
        token_prefix=token[:12],
    )
    return client, token


@transaction.atomic
def api_client_rotate_token(*, client: ApiClient) -> str:
    """Issue a new token; the old one stops working at once. Reactivates a revoked client."""
    token = _new_token()
    client.token_hash, client.token_prefix = token_hash(token), token[:12]
    client.is_active, client.revoked_at = True, None
    client.save(update_fields=["token_hash", "token_prefix", "is_active", "revoked_at"])
    return token


@transaction.atomic
def api_client_set_scopes(*, client: ApiClient, scopes: list[str] | tuple[str, ...]) -> ApiClient:
    client.scopes = _clean_scopes(scopes)
    client.save(update_fields=["scopes"])
    return client


@transaction.atomic
def api_client_revoke(*, client: ApiClient, now: datetime | None = None) -> bool:
    """Stop the client's token working. Returns False when it was already revoked."""
    now = now or timezone.now()
    # The row locked and saved through the model rather than a bare UPDATE, so the audit
    # trail (audit/registry.py) records who revoked it; two revocations still count once.
    current = ApiClient.objects.select_for_update().get(pk=client.pk)
    changed = current.is_active
    if changed:
        current.is_active, current.revoked_at = False, now
        current.save(update_fields=["is_active", "revoked_at"])
    client.is_active, client.revoked_at = current.is_active, current.revoked_at
    return changed


# --- Idempotency ----------------------------------------------------------------------------


class IdempotencyKeyReused(Exception):
    """The key was used before with another request (another body or another endpoint)."""


@dataclass(frozen=True)
class StoredAnswer:
    status_code: int
    body: str


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    """SHA-256 over the method, the path and the parsed body in canonical JSON.

    Canonical (sorted keys, no spaces) so a client that re-serializes the same object in
    another key order is still sending "the same body".
    """
    canonical = json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    digest = hashlib.sha256()
    digest.update(f"{method.upper()} {path}\n".encode())
    digest.update(canonical.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def idempotency_record(
    *,
    client: ApiClient,
    key: str,
    fingerprint: str,
    status_code: int,
    body: str,
    now: datetime | None = None,
) -> None:
    """Keep the answer under the client's key, in the transaction of the work it answers.

    A key already taken makes the insert fail with IntegrityError, and the transaction with
    it: the caller then answers with `idempotency_answer`. On PostgreSQL the insert waits for a
    concurrent transaction that inserted the same (client, key) and has not committed yet,
    so of concurrent repeats exactly one keeps its work. (SQLite runs one writer at a time.)
    """
    IdempotencyRecord.objects.create(
        client=client,
        key=key,
        fingerprint=fingerprint,
        status_code=status_code,
        response_body=body,
        created_at=now or timezone.now(),
    )


def idempotency_answer(*, client: ApiClient, key: str, fingerprint: str) -> StoredAnswer | None:
    """The answer the key's first use got (None when the key is unused); raises
    IdempotencyKeyReused when that first use was another request."""
    first = one_or_none(
        IdempotencyRecord.objects.filter(client=client, key=key).only(
            "fingerprint", "status_code", "response_body"
        )
    )
    if first is None:
        return None
    if first.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key)
    return StoredAnswer(status_code=first.status_code or 200, body=first.response_body)


def idempotency_purge(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Forget keys older than `older_than`; clients retry within minutes, not weeks."""
    now = now or timezone.now()
    deleted, _by_model = IdempotencyRecord.objects.filter(created_at__lt=now - older_than).delete()
    return deleted
