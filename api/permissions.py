"""Who may call which endpoint: the client's scopes, or the signed-in user's roles.

An integration client holds the scopes an administrator gave it. A person signed in with
the browser gets the scopes that match the work of their roles; which orders they see is
still decided by `tickets.selectors.ticket_visible_to`.
"""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework.permissions import BasePermission

from accounts.roles import Role, roles_of
from api.models import ApiClient, Scope
from servicedesk.actors import Actor

ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.AGENT: frozenset({Scope.TICKETS_CREATE, Scope.TICKETS_READ, Scope.TICKETS_ACT}),
    Role.CREW: frozenset({Scope.TICKETS_READ, Scope.TICKETS_ACT}),
    Role.DEPARTMENT: frozenset({Scope.TICKETS_READ, Scope.TICKETS_ACT}),
    Role.SUPERVISOR: frozenset({Scope.TICKETS_READ, Scope.TICKETS_ACT, Scope.REPORTS_READ}),
    Role.ADMIN: frozenset(Scope.values),
}


def client_of(request) -> ApiClient | None:
    """The integration client that made the request, or None for a signed-in person."""
    return request.auth if isinstance(request.auth, ApiClient) else None


def scopes_of(request) -> frozenset[str]:
    client = client_of(request)
    if client is not None:
        return frozenset(client.scopes or ())
    scopes: set[str] = set()
    for role in roles_of(request.user):
        scopes |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(scopes)


def actor_for(request) -> Actor:
    """The timeline's "who": the client by name, or the signed-in person."""
    client = client_of(request)
    if client is not None:
        return Actor(label=client.name)
    return Actor(user=request.user)


class HasScope(BasePermission):
    """Grants the view's `required_scope` (per method: `required_scopes = {"GET": …}`)."""

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        # HEAD runs the GET handler, so it needs what GET needs. A method the view does not
        # define has no scope here and goes on to DRF's 405.
        method = "GET" if request.method == "HEAD" else request.method
        scope = view.required_scopes.get(method)
        if scope is None:
            return True
        if scope in scopes_of(request):
            return True
        self.message = gettext("You lack the permission “%(scope)s” for this request.") % {
            "scope": Scope(scope).label
        }
        return False
