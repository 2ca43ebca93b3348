"""Who may call which endpoint: the client's scopes, or the signed-in user's roles, as the
permission matrix (`accounts.matrix.API`) writes them.

An integration client holds the scopes an administrator gave it. A person signed in with
the browser gets the scopes that match the work of their roles (`accounts.matrix.ROLE_SCOPES`);
which orders they see is still decided by `tickets.selectors.ticket_visible_to`.
"""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.permissions import BasePermission

from accounts import matrix
from accounts.roles import roles_of
from api.models import ApiClient, Scope
from servicedesk.actors import Actor


def client_of(request) -> ApiClient | None:
    """The integration client that made the request, or None for a signed-in person."""
    return request.auth if isinstance(request.auth, ApiClient) else None


def scopes_of(request) -> frozenset[str]:
    client = client_of(request)
    if client is not None:
        return frozenset(client.scopes or ())
    return matrix.scopes_of_roles(roles_of(request.user))


def actor_for(request) -> Actor:
    """The timeline's "who": the client by name, or the signed-in person."""
    client = client_of(request)
    if client is not None:
        return Actor(label=client.name)
    return Actor(user=request.user)


class MatrixPermission(BasePermission):
    """Grants what `accounts.matrix.API` writes for the method and the URL name.

    A method the view does not define has no entry and goes on to DRF's 405, and OPTIONS to
    DRF's description of the endpoint; a method the view defines without an entry is refused,
    so a new endpoint is closed until the matrix says who may call it.
    """

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        match = getattr(request, "resolver_match", None)
        if match is None:  # called without the URL conf: no name to ask the matrix about
            return False
        entry = matrix.operation(request.method, match.view_name)
        if entry is None:
            method = request.method.lower()
            return method == "options" or not hasattr(view, "get" if method == "head" else method)
        if entry.scope is None or entry.scope in scopes_of(request):
            return True
        self.message = gettext("You lack the permission “%(scope)s” for this request.") % {
            "scope": Scope(entry.scope).label
        }
        return False
