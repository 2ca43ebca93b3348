"""Integration clients of the REST API and the answers they may ask for again.

An administrator registers each outside system (the IVR, the telephony switch, the web,
app and WeChat service halls) as an ApiClient, in the admin or with
`python manage.py create_api_client NAME --scopes …`, and hands its token to whoever runs
that system. Only a hash of the token is stored: the token is shown once, when it is made.

Clients retry on timeouts. An IdempotencyRecord remembers, per client and
`Idempotency-Key`, what the first request looked like and what it was answered, so a
retried "create order" never makes a second order.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    """What a client may do. A client holds only the scopes its system needs."""

    TICKETS_CREATE = "tickets:create", _("Create work orders")
    TICKETS_READ = "tickets:read", _("Read work orders")
    TICKETS_ACT = "tickets:act", _("Act on work orders (dispatch, resolve, cancel …)")
    CALLS_PUSH = "calls:push", _("Push call events from the telephony switch")
    REPORTS_READ = "reports:read", _("Read time-limit breaches and service figures")
    # Without it a client reads phone numbers masked (138****5678): privacy.rules.
    PERSONAL_READ = "personal:read", _("Read customers' phone numbers in full")


def token_hash(token: str) -> str:
    """SHA-256 of the token, hex.

    Tokens are 240 random bits, so a fast hash is enough: there is nothing to guess from a
    dictionary, and the lookup on every request stays one indexed equality.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ApiClient(models.Model):
    """An outside system allowed to call the API, identified by its token.

    Created by an administrator; its name is what the timeline shows as the actor of every
    order it creates or moves ("IVR", "WeChat hall" …). Revoking keeps the row, so the
    history still says who did what.
    """

    name = models.CharField(_("name"), max_length=60, unique=True)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    # The first characters of the token, so an administrator can tell tokens apart.
    token_prefix = models.CharField(_("token starts with"), max_length=12, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("integration client")
        verbose_name_plural = _("integration clients")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class IdempotencyRecord(models.Model):
    """The first answer to a request that carried an `Idempotency-Key`.

    Written in the same transaction as the order (or action) it answers, so either both
    exist or neither does. The unique constraint on (client, key) is what makes 16
    simultaneous retries produce one order: PostgreSQL makes the 15 later inserts wait for
    the first transaction, which then commits, and they read its stored answer.
    """

    # No index of its own: the unique (client, key) index starts with the client and serves
    # every lookup by client, one index fewer for each order an integration client creates.
    client = models.ForeignKey(
        ApiClient, on_delete=models.CASCADE, related_name="idempotency_records", db_index=False
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    # SHA-256 over method, path and the request body in canonical form.
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    # The rendered JSON, byte for byte, so a repeat gets exactly the first answer.
    response_body = models.TextField(_("response body"), blank=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "key"], name="api_idempotency_client_key_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.key}"
