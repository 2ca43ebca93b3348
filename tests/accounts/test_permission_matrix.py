"""The permission matrix (accounts/matrix.py) walked: every URL pattern and every API
operation, for every role and every client scope set, answers what the matrix says.

The answers are worked out here from the matrix's own tables (who passes the gate, which
orders a role sees, which actions it takes on which of them) and the cast's data (who
belongs to which unit); each request runs in a savepoint rolled back afterwards, so every
request finds the same orders in the same states.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from order_cast import take_order
from outage_cast import fault
from rest_framework.views import APIView

from accounts import matrix
from accounts.matrix import Gate, Rows, When
from accounts.roles import Role, roles_of
from api.models import Scope
from api.permissions import MatrixPermission
from api.services import api_client_create
from matters.models import ImportantMatter
from matters.services import MatterDraft, matter_file
from outages.models import Outage
from outages.services import outage_register
from servicedesk.actors import Actor
from sla.models import Breach
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
ADMIN_LOGIN = reverse("admin:login")
# The admin keeps its own rule: the index and one list stand for all its pages.
ADMIN_WALKED = ("admin:index", "admin:tickets_ticket_changelist")
API_METHODS = ("get", "post", "put", "patch", "delete")


# --- Every URL pattern, from the resolver ---------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str | None  # "tickets:detail"; None for a pattern without a name
    path: str  # the route as written, e.g. "tickets/<str:number>/"
    pattern: URLPattern
    namespace: str = ""

    @property
    def api_view(self) -> type[APIView] | None:
        view = getattr(self.pattern.callback, "cls", None)
        return view if isinstance(view, type) and issubclass(view, APIView) else None

    @property
    def parameters(self) -> list[str]:
        return list(self.pattern.pattern.converters)


def _walk(patterns, prefix: str, namespace: str) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(part for part in (namespace, pattern.namespace) if part)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            name = pattern.name and (f"{namespace}:{pattern.name}" if namespace else pattern.name)
            yield Route(name, prefix + str(pattern.pattern), pattern, namespace)


def routes() -> list[Route]:
    """Every URL pattern of the project (static and media files, when served, aside)."""
    served = tuple(
        url.lstrip("/") for url in (settings.STATIC_URL, settings.MEDIA_URL) if url not in ("", "/")
    )
    return [
        route
        for route in _walk(get_resolver().url_patterns, "", "")
        if not (served and route.path.startswith(served))
    ]


def operations(route: Route) -> list[str]:
    """The methods an API view answers (HEAD and OPTIONS follow GET and DRF)."""
    return [method.upper() for method in API_METHODS if hasattr(route.api_view, method)]


def test_every_url_pattern_and_api_operation_has_an_entry_in_the_matrix():
    missing = []
    for route in routes():
        if route.namespace in matrix.NAMESPACES:
            continue  # one entry for the whole namespace
        if route.name is None:
            missing.append(f"/{route.path} has no name: name it and add it to accounts/matrix.py")
        elif route.api_view is not None:
            missing += [
                f"add ({method!r}, {route.name!r}) to API in accounts/matrix.py"
                for method in operations(route)
                if matrix.operation(method, route.name) is None
            ]
        else:
            try:
                matrix.page_entry(route.name)
            except KeyError:
                missing.append(f"add {route.name} to accounts/matrix.py")
    assert missing == []


def test_every_entry_of_the_matrix_names_a_url_pattern():
    names = {route.name for route in routes()}
    namespaces = {route.namespace for route in routes()}
    stale = [name for name in matrix.PAGES if name not in names]
    stale += [name for _method, name in matrix.API if name not in names]
    stale += [namespace for namespace in matrix.NAMESPACES if namespace not in namespaces]
    assert stale == []


def test_every_view_of_ours_asks_the_matrix_under_its_own_name():
    strays = []
    for route in routes():
        if route.name is None:
            continue
        if route.api_view is not None:
            if MatrixPermission not in route.api_view.permission_classes:
                strays.append(f"{route.name}: permission_classes lack MatrixPermission")
        elif not matrix.page_entry(route.name).django:
            asked = getattr(route.pattern.callback, "matrix_name", None)
            if asked != route.name:
                strays.append(f"{route.name}: the view asks for {asked!r}; decorate it @page")
    assert strays == []


# --- The cast: a person per role, and a client per scope set ---------------------------------


@pytest.fixture
def frank(db) -> User:
    """钱峰, the centre manager (中心管理)."""
    user = User.objects.create_user(username="frank", first_name="钱峰")
    user.groups.add(Group.objects.get(name=Role.MANAGER))
    return user


@pytest.fixture
def gus(db, urban_crew) -> User:
    """Signed in, no role: a crew member whose role was taken away, still on the crew's list."""
    user = User.objects.create_user(username="gus", first_name="郑凯")
    urban_crew.members.add(user)
    return user


PEOPLE = ["anonymous", "gus", "alice", "bob", "carol", "dave", "frank", "erin"]
SCOPE_SETS: dict[str, tuple[str, ...]] = {
    "client with no scope": (),
    **{f"client with {scope}": (scope,) for scope in Scope.values},
    "client with every scope": tuple(Scope.values),
}
# What pages answer a token does not depend on its scopes (pages know sessions only).
PAGE_WALKERS = {*PEOPLE, "client with no scope", "client with every scope"}


@dataclass
class Who:
    label: str
    user: User | None = None
    token: str = ""
    scopes: frozenset[str] = frozenset()

    @property
    def roles(self) -> frozenset[str]:
        return roles_of(self.user) if self.user else frozenset()

    @property
    def units(self) -> set[int]:
        return set(self.user.handling_units.values_list("pk", flat=True)) if self.user else set()


@pytest.fixture
def who(request) -> Who:
    label = request.param
    if label in SCOPE_SETS:
        _client, token = api_client_create(name=label, scopes=list(SCOPE_SETS[label]))
        return Who(label, token=token, scopes=frozenset(SCOPE_SETS[label]))
    if label == "anonymous":
        return Who(label)
    user = request.getfixturevalue(label)
    user = User.objects.get(pk=user.pk)  # fresh: no cached roles or units
    return Who(label, user=user)


# --- What the requests are about ------------------------------------------------------------


@dataclass
class World:
    """Orders in every state an action starts from, in two crews and the department."""

    orders: dict[str, Ticket] = field(default_factory=dict)
    breach: Breach | None = None
    outage: Outage | None = None
    matter: ImportantMatter | None = None

    def for_action(self, action: str) -> list[Ticket]:
        names = {
            "dispatch": ["accepted repair"],
            "acknowledge": ["urban repair", "rural repair"],
            "arrive": ["urban repair", "rural repair"],
            "resolve": ["repair on site"],
            "reply": ["complaint", "callback inquiry"],
            "visit": ["resolved repair"],
            "archive": ["visited repair"],
            "cancel": ["urban repair", "rural repair"],
            "hasten": ["urban repair", "rural repair"],
            "redispatch": ["urban repair", "rural repair"],
            "contact": ["urban repair", "rural repair"],
            "handback": ["repair on site", "complaint"],
            # Taken by agent alice; the rural one by another agent (首问负责 is per order).
            "accept_check": ["handed-back repair", "handed-back rural repair"],
            "return_check": ["handed-back repair", "handed-back rural repair"],
            "terminate": ["urban repair", "handed-back rural repair"],
        }[action]
        return [self.orders[name] for name in names]

    @property
    def to_read(self) -> list[Ticket]:
        return [self.orders[name] for name in ("urban repair", "rural repair", "complaint")]


@pytest.fixture
def world(alice_actor, bob, carol, dave, urban_customer, rural_customer) -> World:
    def repair(customer, **options):
        return take_order(
            category="repair",
            caller_phone=customer.phones.get().number,
            description="家里没电了",
            customer=customer,
            **options,
            actor=alice_actor,
        )

    crew = Actor(user=bob)

    def on_site():
        return services.ticket_record_arrival(
            ticket=repair(urban_customer, dispatch=True), actor=crew
        )

    def handed_back(ticket=None):
        return services.ticket_resolve(
            ticket=ticket or on_site(), actor=crew, cause="熔断器烧断", work_done="更换熔断器"
        )

    def resolved():
        return services.ticket_check_accept(ticket=handed_back(), actor=alice_actor)

    def rural_handed_back():
        # Taken by another agent and handled by the rural crew (a member of no cast unit).
        other = Actor(user=User.objects.create_user(username="hank", first_name="韩冰"))
        other.user.groups.add(Group.objects.get(name=Role.AGENT))
        order = take_order(
            category="repair",
            caller_phone=rural_customer.phones.get().number,
            description="线路断了",
            customer=rural_customer,
            dispatch=True,
            actor=other,
        )
        order = services.ticket_record_arrival(ticket=order, actor=other)
        return handed_back(order)

    urban = repair(urban_customer, dispatch=True)
    world = World(
        orders={
            "accepted repair": repair(urban_customer),
            "urban repair": urban,
            "rural repair": repair(rural_customer, dispatch=True),
            "repair on site": on_site(),
            "handed-back repair": handed_back(),
            "handed-back rural repair": rural_handed_back(),
            "resolved repair": resolved(),
            "visited repair": services.ticket_visit(
                ticket=resolved(), actor=alice_actor, satisfaction="satisfied"
            ),
            "complaint": take_order(
                category="complaint",
                caller_phone="13800000001",
                description="抢修人员态度差",
                party="城东供电所",
                dispatch=True,
                actor=alice_actor,
            ),
            "callback inquiry": take_order(
                category="inquiry",
                caller_phone="13800000001",
                description="电费为何突然增加",
                reply_form="callback",
                dispatch=True,
                actor=alice_actor,
            ),
        }
    )
    timer = urban.timers.first()
    world.breach = Breach.objects.create(
        ticket=urban,
        timer=timer,
        name=timer.name,
        occurred_at=timer.due_at,
        recorded_at=timer.due_at + timedelta(seconds=5),
        category=urban.category,
        handling_unit=urban.handling_unit,
    )
    now = timezone.now()
    world.outage = outage_register(
        draft=fault(
            starts_at=now, confirmed_at=now, expected_restoration_at=now + timedelta(hours=2)
        ),
        actor=Actor(user=dave),
    )
    world.matter = matter_file(
        draft=MatterDraft(
            title="阶梯电价调整",
            script="您好，自下月起执行新的阶梯电价。",
            valid_from=now,
            valid_to=now + timedelta(days=7),
            service_areas=[urban_customer.service_area],
        ),
        actor=Actor(user=dave),
    )
    return world


# --- The requests ---------------------------------------------------------------------------

ACTION_BODY = {
    "reason": "客户已自行恢复",
    "reply": "已向客户说明",
    "satisfaction": "satisfied",
    "cause": "熔断器烧断",
    "work_done": "更换熔断器",
    "text": "客户再次来电催办",
    "note": "",
    "handling_unit": "crew-rural",
}
PAGE_BODIES = {
    "accounts:login": {"username": "nobody", "password": "wrong"},
    "set_language": {"language": "en", "next": "/"},
    "tickets:hasten": {"text": "客户再次来电催办"},
    "tickets:action": ACTION_BODY,
    "dashboard:breach_acknowledge": {"comment": "已督办"},
    "field:crew_action": {
        **ACTION_BODY,
        "asset_owner": "utility",
        "paid": "free",
        "restored_at": "",
    },
    "field:department_action": {**ACTION_BODY, "reply_form": "callback"},
}
API_BODIES = {
    "api_v1:tickets": {"category": "repair", "caller_phone": "13800000001", "description": "没电"},
    "api_v1:call-events": {
        "call_id": "matrix-1",
        "event": "ring",
        "at": "2026-11-27T10:00:00+08:00",
        "caller_phone": "13800000001",
    },
}


@dataclass(frozen=True)
class Call:
    """One request of the walk, and what it is about."""

    name: str
    method: str
    path: str
    body: dict | None = None
    order: Ticket | None = None
    action: str = ""
    export: str = ""
    api: bool = False
    public: bool = False  # Gate.ANYONE: a redirect to the login page is its own answer

    def label(self) -> str:
        about = f" on {self.order.number}" if self.order else ""
        return f"{self.method} {self.path}{about} ({self.name})"


def _about(route: Route, world: World) -> Iterator[tuple[dict, Ticket | None, str]]:
    """The path parameters of a route, filled with real objects: (kwargs, order, action)."""
    parameters = route.parameters
    if not parameters:
        yield {}, None, ""
        return
    action = (
        route.name.removeprefix("api_v1:ticket-") if route.name.startswith("api_v1:ticket-") else ""
    )
    if route.namespace in ("tickets", "api_v1") and "number" in parameters:
        if "action" in parameters:
            from tickets.views import ACTION_SERVICES

            for each in ACTION_SERVICES:
                for order in world.for_action(each):
                    yield {"number": order.number, "action": each}, order, each
        elif route.name == "tickets:hasten":
            for order in world.for_action("hasten"):
                yield {"number": order.number}, order, "hasten"
        elif action and action != "detail":
            for order in world.for_action(action):
                yield {"number": order.number}, order, action
        else:
            for order in world.to_read:
                extra = {"field": "phone"} if "field" in parameters else {}
                yield {"number": order.number, **extra}, order, ""
        return
    if route.name == "visits:ticket":
        for order in world.to_read:
            yield {"number": order.number}, order, ""
        return
    if route.name == "visits:outage":
        yield {"number": world.outage.number}, None, ""
        return
    if route.namespace == "field":
        if "action" in parameters:
            from field.views import CREW, DEPARTMENT

            desk = CREW if route.name == "field:crew_action" else DEPARTMENT
            for each in desk.steps:
                for order in world.for_action(each):
                    yield {"number": order.number, "action": each}, order, each
        else:
            for order in world.to_read:
                yield {"number": order.number}, order, ""
        return
    if route.name.startswith("outages:") and parameters == ["number"]:
        yield {"number": world.outage.number}, None, ""
        return
    if route.name == "matters:edit":
        yield {"pk": world.matter.pk}, None, ""
        return
    if route.name == "dashboard:breach_acknowledge":
        yield {"pk": world.breach.pk}, None, ""
        return
    if route.name == "dashboard:drill":
        yield {"figure": "orders.category:repair"}, None, ""
        return
    pytest.fail(
        f"no value for {parameters} of {route.name}: add one to _about in "
        "tests/accounts/test_permission_matrix.py"
    )


def calls(world: World, *, pages: bool) -> list[Call]:
    walked = []
    for route in routes():
        if route.api_view is not None:
            for kwargs, order, action in _about(route, world):
                path = reverse(route.name, kwargs=kwargs)
                for method in operations(route):
                    body = ACTION_BODY if action else API_BODIES.get(route.name)
                    walked.append(Call(route.name, method, path, body, order, action, api=True))
            continue
        if not pages or (route.namespace == "admin" and route.name not in ADMIN_WALKED):
            continue
        entry = matrix.page_entry(route.name)
        for kwargs, order, action in _about(route, world):
            path = reverse(route.name, kwargs=kwargs)
            methods = ("GET",) if route.namespace == "admin" else entry.methods
            for method in methods:
                body = PAGE_BODIES.get(route.name, {}) if method == "POST" else None
                walked.append(
                    Call(
                        route.name,
                        method,
                        path,
                        body,
                        order,
                        action,
                        public=entry.gate is Gate.ANYONE,
                    )
                )
            for fmt in entry.exports:
                walked.append(Call(route.name, "GET", f"{path}?format={fmt}", None, export=fmt))
    return walked


# --- What the matrix says each request gets ---------------------------------------------------

REACHED = "reached"  # past every gate: the view's own answer (200, a redirect, 400 …)


def _sees(who: Who, order: Ticket) -> bool:
    """Rows.ORDERS, as the matrix writes it."""
    if who.token:  # integration clients see every order
        return True
    if who.roles & matrix.SEES_EVERY_ORDER:
        return True
    return bool(who.roles & matrix.SEES_UNIT_ORDERS) and order.handling_unit_id in who.units


def _holds(when: When, who: Who, order: Ticket) -> bool:
    if when is When.OWN_UNIT:
        return order.handling_unit_id in who.units
    if when is When.CALLBACK:
        return order.reply_form in ("callback", "sms")
    if when is When.OWNER:
        return who.user is not None and order.owner_id == who.user.pk
    return True


def _may_act(who: Who, order: Ticket, action: str) -> bool:
    if who.token:  # a client with tickets:act takes any action the state allows
        return True
    whens = matrix.action_rights(who.roles).get(action, ())
    return any(_holds(when, who, order) for when in whens)


def expected(who: Who, call: Call) -> int | str:
    if call.api:
        entry = matrix.operation(call.method, call.name)
        if not (who.user or who.token):
            return entry.signed_out
        scopes = who.scopes if who.token else matrix.scopes_of_roles(who.roles)
        if entry.scope is not None and entry.scope not in scopes:
            return 403
    else:
        entry = matrix.page_entry(call.name)
        user = who.user  # pages know the session only: a token is nobody there
        if entry.gate is Gate.STAFF:
            return REACHED if user and user.is_staff else 302
        if entry.gate is Gate.ANYONE:
            return REACHED
        if user is None:
            return 302
        if not entry.admits(user):
            return 403
    if call.order is not None and entry.rows is Rows.ORDERS and not _sees(who, call.order):
        return 404
    if (
        call.order is not None
        and entry.rows is Rows.MY_UNITS
        and call.order.handling_unit_id not in who.units
    ):
        return 404
    if call.action and not _may_act(who, call.order, call.action):
        return 403
    if call.name == "tickets:reveal":
        from privacy.rules import may_reveal

        if not may_reveal(user=who.user, ticket=call.order, field="phone"):
            return 403
    return REACHED


def _is_login(response) -> bool:
    location = response.get("Location", "")
    return location.startswith(LOGIN) or location.startswith(ADMIN_LOGIN)


def answer_of(call: Call, response) -> int | str:
    """The response as the matrix speaks of it: a denial's status, or REACHED."""
    status = response.status_code
    if call.public:
        return REACHED if status < 400 else status
    if status == 302 and _is_login(response):
        return 302
    if status in (401, 403, 404, 405) or status >= 500:
        return status
    if call.method == "GET" and call.name != "home" and status != 200:
        return status  # a page or operation read past its gates answers 200
    if call.export and "attachment" not in response.get("Content-Disposition", ""):
        return "not a download"
    return REACHED


def _send(who: Who, call: Call):
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Token {who.token}"} if who.token else {}
    with transaction.atomic():
        if who.user is not None:
            client.force_login(who.user)
        if call.api:
            body = json.dumps(call.body or {}) if call.method != "GET" else None
            response = client.generic(
                call.method, call.path, body or "", content_type="application/json", **headers
            )
        elif call.method == "POST":
            response = client.post(call.path, call.body or {}, **headers)
        else:
            response = client.get(call.path, **headers)
        transaction.set_rollback(True)
    return response


def _walk_for(who: Who, world: World, *, pages: bool) -> list[str]:
    wrong = []
    for call in calls(world, pages=pages):
        want = expected(who, call)
        got = answer_of(call, _send(who, call))
        if got != want:
            wrong.append(f"{call.label()} as {who.label}: answered {got}, the matrix says {want}")
    return wrong


@pytest.mark.parametrize("who", PEOPLE + list(SCOPE_SETS), indirect=True)
def test_every_url_answers_what_the_matrix_says(who, world):
    pages = who.label in PAGE_WALKERS
    assert _walk_for(who, world, pages=pages) == []


# --- An order of another unit is not there -------------------------------------------------


def test_a_crew_member_gets_404_not_403_for_another_units_order_everywhere(client, bob, world):
    rural = world.orders["rural repair"]
    client.force_login(bob)
    assert client.get(reverse("tickets:detail", args=[rural.number])).status_code == 404
    for action in ("acknowledge", "cancel", "hasten"):
        page = client.post(reverse("tickets:action", args=[rural.number, action]), ACTION_BODY)
        assert page.status_code == 404, action
    assert client.get(reverse("api_v1:ticket-detail", args=[rural.number])).status_code == 404
    for action in matrix.API_ACTIONS:
        answer = client.post(
            reverse(f"api_v1:ticket-{action}", args=[rural.number]),
            json.dumps(ACTION_BODY),
            content_type="application/json",
        )
        # Cancelling is outside a crew's role too: the order's absence is said first.
        assert answer.status_code == 404, action
    assert rural.number not in client.get(reverse("tickets:unit_orders")).content.decode()
    assert client.get(reverse("field:crew_order", args=[rural.number])).status_code == 404
    for action in ("acknowledge", "arrive", "resolve"):
        page = client.post(reverse("field:crew_action", args=[rural.number, action]), ACTION_BODY)
        assert page.status_code == 404, action
    assert rural.number not in client.get(reverse("field:crew_orders")).content.decode()


def test_a_role_taken_away_takes_the_unit_orders_with_it(client, gus, world):
    # Gus is still on the urban crew's list, but holds no role any more.
    client.force_login(gus)
    assert client.get(reverse("tickets:unit_orders")).status_code == 403
    assert (
        client.get(
            reverse("tickets:detail", args=[world.orders["urban repair"].number])
        ).status_code
        == 403
    )


def test_the_centre_manager_watches_the_centre_and_reads_every_order_but_works_none(
    client, frank, world
):
    client.force_login(frank)
    assert client.get("/").url == reverse("dashboard:wallboard")
    wallboard = client.get(reverse("dashboard:wallboard"))
    assert wallboard.status_code == 200
    nav = wallboard.content.decode()
    assert reverse("audit:log") in nav and reverse("tickets:intake") not in nav
    urban = world.orders["urban repair"]
    assert client.get(reverse("tickets:detail", args=[urban.number])).status_code == 200
    assert (
        client.post(
            reverse("tickets:action", args=[urban.number, "cancel"]), ACTION_BODY
        ).status_code
        == 403
    )
    assert client.get(reverse("tickets:intake")).status_code == 403


def test_a_method_a_page_does_not_list_answers_405(client, dave):
    client.force_login(dave)
    assert client.post(reverse("dashboard:wallboard")).status_code == 405
    assert client.get(reverse("dashboard:breach_acknowledge", args=[1])).status_code == 405


def test_a_person_without_the_role_still_goes_to_the_login_page_first(client):
    response = client.get(reverse("dashboard:wallboard"))
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next={reverse('dashboard:wallboard')}"
