"""The permission matrix: who may reach which page, API operation, action and order.

One table for the whole desk. Roles are Django groups (`accounts.roles.Role`); integration
clients hold token scopes (`api.models.Scope`). Pages ask this module through `@page(name)`,
the API through `api.permissions.MatrixPermission`, the order actions through
`tickets.permissions.ticket_actions_for`, and the selectors read the row rules from it.
`tests/accounts/test_permission_matrix.py` walks every URL pattern and every API operation
for every role and scope and checks the answer is the one written here; a URL pattern with
no entry fails that test.

What a request that may not go on gets:

| who / what                                        | page                          | API            |
|---------------------------------------------------|-------------------------------|----------------|
| not signed in                                     | 302 to the login page         | 401 (`Token`)  |
| signed in, no role (or scope) for it              | 403                           | 403            |
| an order outside its row rule (`Rows.ORDERS`)     | 404, never a hint it exists   | 404            |
| an action on an order it sees, outside its role   | 403                           | 403            |
| an action the order's state does not allow        | 409                           | 409            |

A page asked with a method its entry does not list answers 405. The Django admin keeps its
own rule (staff only; anyone else is sent to the admin's login), stated here as one entry
for the whole `admin:` namespace. Which personal fields (phone, resident ID) show in full
to whom is `privacy.rules`, beside this table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from accounts.roles import Role, roles_of
from api.models import Scope
from tickets.lifecycle import Action

R = Role
EVERY_ROLE = frozenset(Role.values)
# Call intake and what it asks (the caller's card, the live call, the knowledge base):
# agents, and supervisors who sit in for one; administrators.
CONSOLE = frozenset({R.AGENT, R.SUPERVISOR, R.ADMIN})
# Who watches the centre: the wallboard, breaches, the period report and its exports, the
# audit trail.
WATCH = frozenset({R.SUPERVISOR, R.MANAGER, R.ADMIN})
# Crews and departments: the orders of the handling units they belong to.
UNIT_ROLES = frozenset({R.CREW, R.DEPARTMENT})
# Every role that works with orders reads the order page (which orders: `Rows.ORDERS`).
ORDER_READERS = EVERY_ROLE
# The unit page lists the orders of the user's units; supervisors, managers and
# administrators may belong to units too. An agent's unit is the centre, whose orders the
# agent already sees everywhere.
UNIT_PAGE = UNIT_ROLES | WATCH
# The outage register (outages.permissions reads these): everyone reads it; the dispatch
# desk (crews), supervisors and administrators keep it; only supervisors report to the power
# authority and let a planned outage through with a notice outside 3–7 days.
OUTAGE_READERS = EVERY_ROLE
OUTAGE_DESK = frozenset({R.CREW, R.SUPERVISOR, R.ADMIN})
OUTAGE_SUPERVISORS = frozenset({R.SUPERVISOR, R.ADMIN})
# The crew pages for a phone and the department pages (field/): a unit's own work, also for
# a supervisor or an administrator who is a member of the unit (which orders: Rows.MY_UNITS).
FIELD_CREW = frozenset({R.CREW, R.SUPERVISOR, R.ADMIN})
FIELD_DEPARTMENT = frozenset({R.DEPARTMENT, R.SUPERVISOR, R.ADMIN})
# Important service matters (重要服务事项报备): supervisors file and change them; agents
# (who read them on the caller's card) and the centre manager read the list too.
MATTER_READERS = frozenset({R.AGENT, R.SUPERVISOR, R.MANAGER, R.ADMIN})
MATTER_FILERS = frozenset({R.SUPERVISOR, R.ADMIN})
# Return visits (回访): agents make the calls, supervisors too (and watch the quality).
VISIT_DESK = frozenset({R.AGENT, R.SUPERVISOR, R.ADMIN})


# --- Rows: which orders (and other rows) a role sees once past the gate ------------------


class Rows(StrEnum):
    """The rows a page or operation shows once its gate is passed.

    For one order named in the URL, an order outside the rule answers 404 (no hint it
    exists); a list simply leaves it out.
    """

    # tickets.selectors.ticket_visible_to, from SEES_EVERY_ORDER and SEES_UNIT_ORDERS below;
    # integration clients see every order (api.selectors.ticket_visible_to_requester).
    ORDERS = "orders"
    # tickets.selectors.ticket_list_for_unit_member: open orders of the user's units.
    UNIT_ORDERS = "unit orders"
    # field.selectors: the orders of the units the person is a member of, whatever the role
    # (a supervisor sees there only the units it belongs to); any other order answers 404.
    MY_UNITS = "orders of the units one belongs to"
    # tickets.selectors.ticket_list_owned_by: the orders the agent took (首问负责制).
    OWN_ORDERS = "own orders"
    # api.selectors.breach_list_for_api: breaches of the orders the requester sees.
    BREACHES = "breaches of the orders seen"
    # sla.selectors.notifications_for: the signed-in person's own notifications.
    OWN_NOTIFICATIONS = "own notifications"


# A repeat call may concern any order, so agents see them all; supervisors, centre managers
# and administrators watch the whole centre.
SEES_EVERY_ORDER = frozenset({R.AGENT, R.SUPERVISOR, R.MANAGER, R.ADMIN})
# Crews and departments see the orders handled by a unit they are a member of.
SEES_UNIT_ORDERS = UNIT_ROLES


# --- Actions on an order -------------------------------------------------------------------

# Not a life-cycle move (the state stays): a repeat call logged on an open order (催办).
HASTEN = "hasten"
EVERY_ACTION: tuple[str, ...] = (*Action.values, HASTEN)


class When(StrEnum):
    """On which of the orders it sees a role may take an action (tickets.permissions)."""

    SEEN = "any order it sees"
    OWN_UNIT = "an order of a unit it belongs to"
    # Complaints and reports are answered by the department concerned; an agent writes the
    # reply only of an inquiry that promised a callback or an SMS.
    CALLBACK = "an inquiry that promised a callback or an SMS"
    # 首问负责制: the agent who took the call answers for the order to the end, so the
    # check of what the unit hands back (回单审核) and a service termination are its own.
    OWNER = "an order it took"


# A unit works its own orders: accepts, calls the customer, goes on site, records and hands
# back the result; one that is not the right unit passes the order on (转派).
_UNIT_WORK = dict.fromkeys(
    (
        Action.ACKNOWLEDGE,
        Action.CONTACT,
        Action.ARRIVE,
        Action.RESOLVE,
        Action.REPLY,
        Action.HANDBACK,
        Action.REDISPATCH,
    ),
    When.OWN_UNIT,
)
# Role → action → on which orders. The life cycle (tickets.lifecycle) decides whether the
# action is possible in the order's state at all; this decides who may take it. Integration
# clients holding `tickets:act` take any action the state allows.
ACTIONS: dict[str, dict[str, When]] = {
    # An agent owns what it took (首问负责制): cancels it, does the return visit, archives it,
    # logs a repeat call as a hastening; checks what the unit hands back and terminates a
    # claim outside the utility's scope, on the orders it took.
    R.AGENT: {
        Action.CANCEL: When.SEEN,
        Action.VISIT: When.SEEN,
        Action.ARCHIVE: When.SEEN,
        Action.REPLY: When.CALLBACK,
        HASTEN: When.SEEN,
        Action.ACCEPT_CHECK: When.OWNER,
        Action.RETURN_CHECK: When.OWNER,
        Action.TERMINATE: When.OWNER,
    },
    R.CREW: _UNIT_WORK,
    R.DEPARTMENT: _UNIT_WORK,
    R.SUPERVISOR: dict.fromkeys(EVERY_ACTION, When.SEEN),
    # The centre manager watches and reads; the shift's supervisors work the orders.
    R.MANAGER: {},
    R.ADMIN: dict.fromkeys(EVERY_ACTION, When.SEEN),
}


def action_rights(roles: frozenset[str]) -> dict[str, frozenset[When]]:
    """Action → the conditions under which one of these roles may take it (any one holds)."""
    rights: dict[str, set[When]] = {}
    for role in roles:
        for action, when in ACTIONS.get(role, {}).items():
            rights.setdefault(action, set()).add(when)
    return {action: frozenset(whens) for action, whens in rights.items()}


# --- Pages ----------------------------------------------------------------------------------


class Gate(StrEnum):
    ANYONE = "anyone"  # no sign-in needed
    SIGNED_IN = "signed in"  # any signed-in person, with or without a role
    ROLES = "roles"  # a signed-in person holding one of the entry's roles
    STAFF = "staff"  # Django admin's own rule: an active staff member


@dataclass(frozen=True)
class Page:
    """Who may reach one page (an HTML view, or a fragment or JSON a page asks for)."""

    gate: Gate
    roles: frozenset[str] = frozenset()
    # The methods the page answers; any other answers 405 (GET admits HEAD).
    methods: tuple[str, ...] = ("GET",)
    rows: Rows | None = None
    # The page takes actions on an order: ACTIONS decide who (403), the life cycle when (409).
    actions: bool = False
    # `?format=…` downloads of the page's tables, behind the same gate.
    exports: tuple[str, ...] = ()
    # Django's own view (sign-in, language, the admin): it keeps its own rule, stated here.
    django: bool = False

    def admits(self, user) -> bool:
        if self.gate is Gate.ANYONE:
            return True
        if not getattr(user, "is_authenticated", False):
            return False
        if self.gate is Gate.SIGNED_IN:
            return True
        if self.gate is Gate.STAFF:
            return bool(user.is_active and user.is_staff)
        return bool(roles_of(user) & self.roles)

    def answers(self, method: str) -> bool:
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


def _for(roles: frozenset[str], *methods: str, **options) -> Page:
    return Page(Gate.ROLES, roles, methods or ("GET",), **options)


EXPORTS = ("csv", "xlsx")

PAGES: dict[str, Page] = {
    # Sign-in and the home page that sends each role to where it works.
    "home": Page(Gate.SIGNED_IN),
    "accounts:login": Page(Gate.ANYONE, methods=("GET", "POST"), django=True),
    "accounts:logout": Page(Gate.ANYONE, methods=("POST",), django=True),
    "accounts:no_role": Page(Gate.SIGNED_IN),
    "set_language": Page(Gate.ANYONE, methods=("POST",), django=True),
    # The agent console.
    "tickets:intake": _for(CONSOLE, "GET", "POST"),
    "tickets:caller_panel": _for(CONSOLE),
    "tickets:live_call": _for(CONSOLE),
    "tickets:call_disposition": _for(CONSOLE, "POST"),
    "tickets:my_orders": _for(CONSOLE, rows=Rows.OWN_ORDERS),
    "tickets:hasten": _for(CONSOLE, "POST", rows=Rows.ORDERS, actions=True),
    "knowledge:search": _for(CONSOLE),
    # Orders.
    "tickets:unit_orders": _for(UNIT_PAGE, rows=Rows.UNIT_ORDERS),
    "tickets:detail": _for(ORDER_READERS, rows=Rows.ORDERS),
    "tickets:action": _for(ORDER_READERS, "POST", rows=Rows.ORDERS, actions=True),
    # One personal field shown in full, logged; which field to whom: privacy.rules (403).
    "tickets:reveal": _for(ORDER_READERS, "POST", rows=Rows.ORDERS),
    # The outage register.
    "outages:list": _for(OUTAGE_READERS),
    "outages:create": _for(OUTAGE_DESK, "GET", "POST"),
    "outages:detail": _for(OUTAGE_READERS),
    "outages:edit": _for(OUTAGE_DESK, "GET", "POST"),
    "outages:restoration": _for(OUTAGE_DESK, "POST"),
    "outages:dispatch": _for(OUTAGE_DESK, "POST"),
    "outages:authority": _for(OUTAGE_SUPERVISORS, "POST"),
    "outages:end": _for(OUTAGE_DESK, "POST"),
    # The crew pages for a phone and the department pages.
    "field:crew_orders": _for(FIELD_CREW, rows=Rows.MY_UNITS),
    "field:crew_order": _for(FIELD_CREW, rows=Rows.MY_UNITS),
    "field:crew_action": _for(FIELD_CREW, "POST", rows=Rows.MY_UNITS, actions=True),
    "field:department_orders": _for(FIELD_DEPARTMENT, rows=Rows.MY_UNITS),
    "field:department_order": _for(FIELD_DEPARTMENT, rows=Rows.MY_UNITS),
    "field:department_action": _for(FIELD_DEPARTMENT, "POST", rows=Rows.MY_UNITS, actions=True),
    # Important service matters.
    "matters:list": _for(MATTER_READERS),
    "matters:create": _for(MATTER_FILERS, "GET", "POST"),
    "matters:edit": _for(MATTER_FILERS, "GET", "POST"),
    # Return visits: the queue, one order's visit (404 for an order one may not see), one
    # outage's visit.
    "visits:queue": _for(VISIT_DESK),
    "visits:ticket": _for(VISIT_DESK, "GET", "POST", rows=Rows.ORDERS),
    "visits:outage": _for(VISIT_DESK, "GET", "POST"),
    # The supervisors' pages.
    "dashboard:wallboard": _for(WATCH),
    "dashboard:wallboard_live": _for(WATCH),
    "dashboard:breaches": _for(WATCH, exports=EXPORTS),
    "dashboard:breach_acknowledge": _for(WATCH, "POST"),
    "dashboard:estimated": _for(WATCH),
    "dashboard:report": _for(WATCH, exports=EXPORTS),
    "dashboard:drill": _for(WATCH, exports=EXPORTS),
    "audit:log": _for(WATCH),
    # Everyone's own notifications (the badge in the top bar polls the unread count).
    "sla:notifications": Page(Gate.SIGNED_IN, rows=Rows.OWN_NOTIFICATIONS),
    "sla:notifications_unread": Page(Gate.SIGNED_IN, rows=Rows.OWN_NOTIFICATIONS),
    "sla:notifications_read": Page(Gate.SIGNED_IN, methods=("POST",), rows=Rows.OWN_NOTIFICATIONS),
}

# Every URL of these namespaces follows one entry.
NAMESPACES: dict[str, Page] = {
    "admin": Page(Gate.STAFF, methods=("GET", "POST"), django=True),
}


def page_entry(name: str) -> Page:
    """The matrix entry of a URL name ("tickets:intake"); KeyError when it has none."""
    entry = PAGES.get(name)
    if entry is None:
        namespace, _, _rest = name.partition(":")
        entry = NAMESPACES.get(namespace) if _rest else None
    if entry is None:
        raise KeyError(f"{name} has no entry in accounts/matrix.py")
    return entry


def page_admits(user, name: str) -> bool:
    return page_entry(name).admits(user)


def page(name: str) -> Callable[[Callable], Callable]:
    """The view of URL `name` asks the matrix: not signed in → the login page (302); signed
    in without the role → 403; a method the entry does not list → 405.

    Row rules (404 for an order one may not see) are applied by the selectors the view
    reads through.
    """
    entry = page_entry(name)  # at import: a view naming a page the matrix lacks fails loudly

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not entry.admits(request.user):
                raise PermissionDenied
            if not entry.answers(request.method):
                return HttpResponseNotAllowed(entry.methods)
            return view(request, *args, **kwargs)

        checked = wrapped if entry.gate is Gate.ANYONE else login_required(wrapped)
        checked.matrix_name = name
        return checked

    return decorator


class MayOpen:
    """`{% if "dashboard:wallboard" in may_open %}`: the navigation asks the matrix too."""

    def __init__(self, user) -> None:
        self.user = user

    def __contains__(self, name: str) -> bool:
        return page_admits(self.user, name)


# --- The API ----------------------------------------------------------------------------------

# The scopes a person signed in with the browser holds on the API, by role: the work of
# the role. Integration clients hold the scopes an administrator gave them.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    R.AGENT: frozenset({Scope.TICKETS_CREATE, Scope.TICKETS_READ, Scope.TICKETS_ACT}),
    R.CREW: frozenset({Scope.TICKETS_READ, Scope.TICKETS_ACT}),
    R.DEPARTMENT: frozenset({Scope.TICKETS_READ, Scope.TICKETS_ACT}),
    R.SUPERVISOR: frozenset({Scope.TICKETS_READ, Scope.TICKETS_ACT, Scope.REPORTS_READ}),
    R.MANAGER: frozenset({Scope.TICKETS_READ, Scope.REPORTS_READ}),
    R.ADMIN: frozenset(Scope.values),
}


def scopes_of_roles(roles: frozenset[str]) -> frozenset[str]:
    scopes: set[str] = set()
    for role in roles:
        scopes |= ROLE_SCOPES.get(role, frozenset())
    return frozenset(scopes)


@dataclass(frozen=True)
class Operation:
    """Who may call one API operation (method + URL name)."""

    # The scope a client (or a person, through ROLE_SCOPES) needs; None: any signed-in
    # person or any client.
    scope: str | None
    rows: Rows | None = None
    # The operation is an action on an order: for a person, ACTIONS decide (403); for
    # everyone, the life cycle (409).
    actions: bool = False
    # What a request without credentials gets: 401 with `WWW-Authenticate: Token`, or (for
    # the interactive docs a browser opens) 302 to the login page.
    signed_out: int = 401

    def roles(self) -> frozenset[str]:
        """The roles whose people may call it with the browser's session."""
        if self.scope is None:
            return EVERY_ROLE
        return frozenset(role for role, scopes in ROLE_SCOPES.items() if self.scope in scopes)


# The life-cycle actions the API offers, one URL each (`POST /api/v1/tickets/{number}/{action}/`).
API_ACTIONS: tuple[str, ...] = (
    Action.DISPATCH,
    Action.ACKNOWLEDGE,
    Action.ARRIVE,
    Action.RESOLVE,
    Action.REPLY,
    Action.VISIT,
    Action.ARCHIVE,
    Action.CANCEL,
    Action.REDISPATCH,
    Action.CONTACT,
    Action.HANDBACK,
    Action.ACCEPT_CHECK,
    Action.RETURN_CHECK,
    Action.TERMINATE,
)

API: dict[tuple[str, str], Operation] = {
    ("GET", "api-schema"): Operation(None),
    ("GET", "api-docs"): Operation(None, signed_out=302),
    ("GET", "api_v1:tickets"): Operation(Scope.TICKETS_READ, rows=Rows.ORDERS),
    ("POST", "api_v1:tickets"): Operation(Scope.TICKETS_CREATE),
    ("GET", "api_v1:ticket-detail"): Operation(Scope.TICKETS_READ, rows=Rows.ORDERS),
    **{
        ("POST", f"api_v1:ticket-{action}"): Operation(
            Scope.TICKETS_ACT, rows=Rows.ORDERS, actions=True
        )
        for action in API_ACTIONS
    },
    ("POST", "api_v1:call-events"): Operation(Scope.CALLS_PUSH),
    ("GET", "api_v1:sla-breaches"): Operation(Scope.REPORTS_READ, rows=Rows.BREACHES),
    ("GET", "api_v1:metrics"): Operation(Scope.REPORTS_READ),
}


def operation(method: str, name: str) -> Operation | None:
    """The entry of an API operation; HEAD is asked as GET (it runs the GET handler)."""
    return API.get(("GET" if method == "HEAD" else method, name))
