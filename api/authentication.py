"""`Authorization: Token <key>` for integration clients.

A request with a valid token is made by an ApiClient: `request.auth` is the client and
`request.user` a ClientPrincipal that only says "authenticated as this client". Browsers
use the session instead (DRF's SessionAuthentication, with its CSRF check).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from api.models import ApiClient, token_hash
from api.selectors import one_or_none

KEYWORD = "Token"
# Long enough for any token we issue; anything longer is refused before hashing.
MAX_TOKEN_LENGTH = 200
# `last_used_at` is for the administrator deciding whether a token is still in use; an
# hour's precision is plenty and keeps the hot path free of a write per request.
LAST_USED_PRECISION = timedelta(hours=1)


class ClientPrincipal:
    """`request.user` for a request made with a client token: authenticated, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None
    # A client holds no role and belongs to no unit: accounts.roles.roles_of and
    # tickets.permissions.unit_ids_of read these caches instead of querying.
    _role_codes: frozenset[str] = frozenset()
    _unit_ids: frozenset[int] = frozenset()

    def __init__(self, client: ApiClient) -> None:
        self.client = client
        self.username = client.name

    def __str__(self) -> str:
        return self.client.name


class ClientTokenAuthentication(BaseAuthentication):
    keyword = KEYWORD

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the header as “Authorization: Token <key>”.")
            )
        raw = header[1]
        if len(raw) > MAX_TOKEN_LENGTH:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        try:
            token = raw.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        client = one_or_none(ApiClient.objects.filter(token_hash=token_hash(token), is_active=True))
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        now = timezone.now()
        if client.last_used_at is None or now - client.last_used_at >= LAST_USED_PRECISION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return ClientPrincipal(client), client

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return self.keyword
