"""The fixed cast every test shares.

alice  — agent at the call centre
bob    — member of the urban repair crew
carol  — handler in the customer-service department (complaints, reports, inquiries)
dave   — supervisor of the urban crew and the department
erin   — administrator
and one customer in each area type: urban, rural, remote.
"""

from __future__ import annotations

import importlib
import os

import pytest
from django.contrib.auth.models import Group, User

from customers.models import (
    AreaType,
    Customer,
    CustomerPhone,
    HandlingUnit,
    RoutingRule,
    ServiceArea,
)
from servicedesk.actors import Actor

# Live-server tests (browser) need sync ORM calls from the Playwright thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


REFERENCE_DATA = [
    # (migration module, seed function): the reference data the migrations load.
    ("accounts.migrations.0001_roles", "create_groups"),
    ("accounts.migrations.0002_manager_role", "create_groups"),
    ("tickets.migrations.0002_seed_taxonomy", "seed"),
    ("sla.migrations.0002_seed_default_rules", "seed"),
    ("sla.migrations.0003_seed_holidays", "seed"),
    ("outages.migrations.0003_seed_timer_rules", "seed"),
    ("outages.migrations.0005_frequent_outage_levels", "seed"),
    ("customers.migrations.0004_routing_rules", "seed"),
    ("sla.migrations.0009_two_stage_rules", "seed"),
]


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Transactional tests (live server, threads, real workers) empty every table when they
    end, which also wipes the reference data the migrations loaded: roles, the taxonomy, the
    default time limits, the holidays. Put it back before a database test that finds it gone."""
    marker = request.node.get_closest_marker("django_db")
    uses_db = marker is not None or {"db", "transactional_db", "live_server"} & set(
        request.fixturenames
    )
    if not uses_db:
        return
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    request.getfixturevalue("transactional_db" if transactional else "db")
    if Group.objects.filter(name="agent").exists():
        return
    from django.apps import apps

    for module, function in REFERENCE_DATA:
        getattr(importlib.import_module(module), function)(apps, None)


@pytest.fixture(autouse=True)
def _fresh_rules_cache():
    """Each test starts without the previous test's (rolled back) rules in memory."""
    from sla.selectors import rules_cache_clear

    rules_cache_clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """The production hasher costs ~0.2 s a user by design; tests need users, not that cost."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str, role: str, *, full_name: str, **extra) -> User:
    user = User.objects.create_user(username=username, password="pass-" + username, **extra)
    user.first_name = full_name
    user.save(update_fields=["first_name"])
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def alice(db) -> User:
    return _user("alice", "agent", full_name="王丽")


@pytest.fixture
def bob(db, urban_crew) -> User:
    user = _user("bob", "crew", full_name="李强")
    urban_crew.members.add(user)
    return user


@pytest.fixture
def carol(db, service_department) -> User:
    user = _user("carol", "department", full_name="陈静")
    service_department.members.add(user)
    return user


@pytest.fixture
def dave(db, urban_crew, service_department) -> User:
    user = _user("dave", "supervisor", full_name="赵伟")
    urban_crew.supervisors.add(user)
    service_department.supervisors.add(user)
    return user


@pytest.fixture
def erin(db) -> User:
    return _user("erin", "admin", full_name="孙敏", is_staff=True, is_superuser=True)


@pytest.fixture
def alice_actor(alice) -> Actor:
    return Actor(user=alice)


@pytest.fixture
def centre(db) -> HandlingUnit:
    return HandlingUnit.objects.create(
        code="centre", name="客户服务中心", kind=HandlingUnit.Kind.CALL_CENTRE
    )


def _routed_to(unit: HandlingUnit, *categories: str) -> HandlingUnit:
    """Routing rules sending these categories to the unit (below the area's crew or station)."""
    for category in categories:
        RoutingRule.objects.create(category=category, unit=unit, priority=100)
    return unit


@pytest.fixture
def urban_crew(db, centre) -> HandlingUnit:
    # Also the crew of repairs from no known area (a routing rule, as migrated).
    unit = HandlingUnit.objects.create(
        code="crew-urban",
        name="城区抢修一班",
        kind=HandlingUnit.Kind.CREW,
        parent=centre,
        categories=["repair"],
    )
    return _routed_to(unit, "repair")


@pytest.fixture
def rural_crew(db, centre) -> HandlingUnit:
    return HandlingUnit.objects.create(
        code="crew-rural", name="城郊供电所抢修班", kind=HandlingUnit.Kind.CREW, parent=centre
    )


@pytest.fixture
def remote_crew(db, centre) -> HandlingUnit:
    return HandlingUnit.objects.create(
        code="crew-remote", name="山区供电所抢修班", kind=HandlingUnit.Kind.CREW, parent=centre
    )


@pytest.fixture
def service_department(db, centre) -> HandlingUnit:
    unit = HandlingUnit.objects.create(
        code="dept-service",
        name="客户服务部",
        kind=HandlingUnit.Kind.DEPARTMENT,
        parent=centre,
        categories=["inquiry", "application", "complaint", "report"],
    )
    return _routed_to(unit, "inquiry", "application", "complaint", "report")


@pytest.fixture
def urban_area(db, urban_crew) -> ServiceArea:
    return ServiceArea.objects.create(
        code="urban-1",
        name="城东供电区",
        area_type=AreaType.URBAN,
        crew=urban_crew,
        households=12000,
    )


@pytest.fixture
def rural_area(db, rural_crew) -> ServiceArea:
    return ServiceArea.objects.create(
        code="rural-1",
        name="城郊供电区",
        area_type=AreaType.RURAL,
        crew=rural_crew,
        households=8000,
    )


@pytest.fixture
def remote_area(db, remote_crew) -> ServiceArea:
    return ServiceArea.objects.create(
        code="remote-1",
        name="山区供电区",
        area_type=AreaType.REMOTE,
        crew=remote_crew,
        households=3000,
    )


def _customer(area: ServiceArea, account: str, name: str, phone: str, **extra) -> Customer:
    customer = Customer.objects.create(
        account_number=account,
        name=name,
        address=f"{area.name}幸福路{account[-3:]}号",
        service_area=area,
        feeder=f"{area.code}-10kV-1",
        transformer_area=f"{area.code}-台区-1",
        **extra,
    )
    CustomerPhone.objects.create(customer=customer, number=phone, is_primary=True)
    return customer


@pytest.fixture
def urban_customer(urban_area) -> Customer:
    return _customer(urban_area, "3100000001", "张三", "13800000001")


@pytest.fixture
def rural_customer(rural_area) -> Customer:
    return _customer(rural_area, "3100000002", "李四", "13800000002")


@pytest.fixture
def remote_customer(remote_area) -> Customer:
    return _customer(remote_area, "3100000003", "王五", "13800000003")


@pytest.fixture
def important_customer(urban_area) -> Customer:
    return _customer(
        urban_area,
        "3100000009",
        "市第一人民医院",
        "01088880000",
        is_important=True,
        tariff=Customer.Tariff.COMMERCIAL,
        supply_source=Customer.SupplySource.DUAL_SOURCE,
    )


@pytest.fixture
def api_client(db):
    """The IVR as an integration client holding every scope: `.client` (the row), `.token`,
    and `.headers` for Django's test client (`client.get(url, **api_client.headers)`)."""
    from types import SimpleNamespace

    from api.models import Scope
    from api.services import api_client_create

    client, token = api_client_create(name="IVR", scopes=list(Scope.values))
    return SimpleNamespace(
        client=client, token=token, headers={"HTTP_AUTHORIZATION": f"Token {token}"}
    )
