"""The routing rules and the fallback unit as an administrator edits them in the admin."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from customers.models import HandlingUnit, RoutingRule
from tickets.models import SubType

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_after():
    # A request in English leaves English active in this thread (LocaleMiddleware): put
    # the default back, so the tests after this one see Chinese as they expect.
    yield
    translation.deactivate()


RULE_ADD = "/admin/customers/routingrule/add/"


@pytest.fixture
def admin_client(erin):
    # In English: the messages checked are the msgids.
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(erin)
    return client


def _rule(**fields):
    data = {"category": "complaint", "target": "unit", "priority": "100", "is_active": "on"}
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def _unit_form(unit: HandlingUnit, **changes) -> dict:
    data = {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent_id or "",
        "phone": unit.phone,
    }
    flags = {"is_active": unit.is_active, "is_fallback": unit.is_fallback, **changes}
    data.update({name: "on" for name, on in flags.items() if on})
    return data


def _errors(response) -> dict:
    return response.context["adminform"].form.errors


def test_a_rule_to_a_named_unit_needs_the_unit(admin_client):
    response = admin_client.post(RULE_ADD, _rule())
    assert response.status_code == 200
    assert _errors(response)["unit"] == ["Choose the unit this rule sends orders to."]
    assert not RoutingRule.objects.filter(category="complaint").exists()


def test_a_rule_that_follows_the_area_names_no_unit(admin_client, service_department):
    response = admin_client.post(
        RULE_ADD, _rule(target="area_station", unit=str(service_department.pk))
    )
    assert response.status_code == 200
    assert "leave the unit blank" in _errors(response)["unit"][0]


def test_a_sub_type_of_another_category_is_refused(admin_client, service_department):
    theft = SubType.objects.get(code="report-theft")
    response = admin_client.post(
        RULE_ADD, _rule(subtype=str(theft.pk), unit=str(service_department.pk))
    )
    assert response.status_code == 200
    assert _errors(response)["subtype"] == ["This sub-type belongs to another category."]


def test_an_unknown_category_is_refused(admin_client, service_department):
    response = admin_client.post(
        RULE_ADD, _rule(category="gossip", unit=str(service_department.pk))
    )
    assert response.status_code == 200
    assert "category" in _errors(response)


def test_an_administrator_adds_a_sub_type_rule(admin_client, service_department):
    billing = SubType.objects.get(code="complaint-billing")
    response = admin_client.post(
        RULE_ADD, _rule(subtype=str(billing.pk), unit=str(service_department.pk), priority="5")
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get(subtype=billing)
    assert (rule.category, rule.unit, rule.priority) == ("complaint", service_department, 5)


def test_ticking_the_fallback_on_another_unit_moves_it_there(admin_client, centre, urban_crew):
    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True)
    url = f"/admin/customers/handlingunit/{urban_crew.pk}/change/"
    response = admin_client.post(url, _unit_form(urban_crew, is_fallback=True), follow=True)
    assert response.status_code == 200
    assert list(HandlingUnit.objects.filter(is_fallback=True)) == [urban_crew]
    messages = [str(m) for m in response.context["messages"]]
    assert any(centre.name in m and urban_crew.name in m for m in messages)


def test_the_only_fallback_cannot_be_cleared_switched_off_or_deleted(admin_client, centre):
    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True)
    centre.refresh_from_db()
    url = f"/admin/customers/handlingunit/{centre.pk}/change/"

    cleared = admin_client.post(url, _unit_form(centre, is_fallback=False))
    assert cleared.status_code == 200
    assert "make another unit the fallback" in _errors(cleared)["is_fallback"][0]

    switched_off = admin_client.post(url, _unit_form(centre, is_active=False))
    assert switched_off.status_code == 200
    assert "must stay active" in _errors(switched_off)["is_active"][0]

    assert admin_client.get(f"/admin/customers/handlingunit/{centre.pk}/delete/").status_code == 403
    centre.refresh_from_db()
    assert centre.is_fallback and centre.is_active


def test_the_rule_list_warns_when_no_unit_is_the_fallback(admin_client, centre):
    page = admin_client.get("/admin/customers/routingrule/")
    assert "No active unit is the fallback" in page.content.decode()
    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True)
    page = admin_client.get("/admin/customers/routingrule/")
    assert "No active unit is the fallback" not in page.content.decode()
