"""Routing as data: which unit an order goes to, from the rules an administrator edits."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import translation
from order_cast import take_order

from customers.models import HandlingUnit, RoutingRule, ServiceArea
from tickets import routing, services
from tickets.models import Status, SubType, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_after():
    # A request in English leaves English active in this thread (LocaleMiddleware): put
    # the default back, so the tests after this one see Chinese as they expect.
    yield
    translation.deactivate()


Target = RoutingRule.Target


def _unit(code: str, name: str, kind=HandlingUnit.Kind.DEPARTMENT, **extra) -> HandlingUnit:
    return HandlingUnit.objects.create(code=code, name=name, kind=kind, **extra)


def _route(category, area=None, *, subtype=None, detail=None):
    return routing.unit_for(
        category=category,
        service_area=area,
        subtype_id=subtype.pk if subtype else None,
        detail_id=detail.pk if detail else None,
    )


@pytest.fixture
def billing_department(db):
    return _unit("dept-billing", "电费管理中心")


@pytest.fixture
def station_area(db, urban_crew):
    station = _unit("station-east", "城东供电所", kind=HandlingUnit.Kind.STATION)
    return ServiceArea.objects.create(
        code="urban-2", name="城东二区", area_type="urban", crew=urban_crew, station=station
    )


def test_the_migration_sends_repairs_to_the_crew_of_the_service_area(
    urban_area, rural_area, urban_crew, rural_crew
):
    rule = RoutingRule.objects.get(category="repair", target=Target.AREA_CREW)
    assert rule.service_area is None and rule.unit is None
    assert _route("repair", urban_area) == urban_crew
    assert _route("repair", rural_area) == rural_crew


def test_a_repair_from_no_known_area_goes_to_the_unit_its_category_rule_names(urban_crew):
    assert _route("repair", None) == urban_crew


def test_other_categories_go_to_the_unit_their_category_rule_names(service_department):
    for category in ("inquiry", "application", "complaint", "report"):
        assert _route(category, None) == service_department


def test_a_sub_type_rule_beats_the_category_rule(service_department, billing_department):
    billing = SubType.objects.get(code="complaint-billing")
    RoutingRule.objects.create(
        category="complaint", subtype=billing, unit=billing_department, priority=500
    )
    assert _route("complaint", subtype=billing) == billing_department
    conduct = SubType.objects.get(code="complaint-conduct")
    assert _route("complaint", subtype=conduct) == service_department
    assert _route("complaint") == service_department


def test_a_sub_type_rule_also_matches_the_order_s_detail(urban_area, urban_crew):
    hv_crew = _unit("crew-hv", "高压抢修班", kind=HandlingUnit.Kind.CREW)
    line = SubType.objects.get(code="repair-hv-line")
    RoutingRule.objects.create(category="repair", subtype=line, unit=hv_crew)
    assert _route("repair", urban_area, detail=line) == hv_crew
    assert _route("repair", urban_area) == urban_crew


def test_the_area_s_supply_station_is_preferred_when_a_rule_says_so(
    station_area, urban_area, service_department
):
    RoutingRule.objects.create(category="application", target=Target.AREA_STATION, priority=900)
    assert _route("application", station_area) == station_area.station
    # An area without a station, or with its station switched off: the department.
    assert _route("application", urban_area) == service_department
    HandlingUnit.objects.filter(pk=station_area.station_id).update(is_active=False)
    assert _route("application", station_area) == service_department
    # Complaints have no station rule: the department, station or not.
    assert _route("complaint", station_area) == service_department


def test_a_rule_for_the_service_area_beats_a_rule_for_every_area(
    urban_area, rural_area, service_department, billing_department
):
    RoutingRule.objects.create(
        category="report", service_area=rural_area, unit=billing_department, priority=999
    )
    assert _route("report", rural_area) == billing_department
    assert _route("report", urban_area) == service_department


def test_among_equally_specific_rules_the_lowest_priority_number_wins(
    service_department, billing_department
):
    rule = RoutingRule.objects.create(category="inquiry", unit=billing_department, priority=50)
    assert _route("inquiry") == billing_department
    rule.priority = 150
    rule.save()
    assert _route("inquiry") == service_department


def test_an_inactive_rule_or_a_rule_to_an_inactive_unit_is_passed_over(
    service_department, billing_department
):
    rule = RoutingRule.objects.create(category="inquiry", unit=billing_department, priority=50)
    RoutingRule.objects.filter(pk=rule.pk).update(is_active=False)
    assert _route("inquiry") == service_department
    RoutingRule.objects.filter(pk=rule.pk).update(is_active=True)
    HandlingUnit.objects.filter(pk=billing_department.pk).update(is_active=False)
    assert _route("inquiry") == service_department


def test_the_fallback_unit_receives_what_no_rule_routes(centre, urban_area):
    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True)
    assert _route("complaint", urban_area) == centre
    # The area's crew still gets repairs: the fallback is the last resort.
    assert _route("repair", urban_area) == urban_area.crew


def test_without_an_active_fallback_nothing_routes(centre, urban_area):
    assert _route("complaint", urban_area) is None
    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True, is_active=False)
    assert _route("complaint", urban_area) is None


def test_a_routing_decision_costs_one_or_two_queries(
    urban_area, service_department, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the category's rules, with their named units
        assert _route("complaint", urban_area) == service_department
    with django_assert_num_queries(2):  # + the area's crew and station and the fallback
        assert _route("repair", urban_area) == urban_area.crew


def test_falling_back_costs_two_queries(centre, urban_area, django_assert_num_queries):
    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True)
    billing = SubType.objects.get(code="complaint-billing")
    with django_assert_num_queries(2):
        assert _route("complaint", urban_area, subtype=billing) == centre


def test_a_dispatch_without_a_unit_follows_the_rules(alice_actor, urban_customer, urban_crew):
    ticket = take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13800000001",
        description="家里停电",
        customer=urban_customer,
        dispatch=True,
    )
    assert ticket.status == Status.DISPATCHED and ticket.handling_unit == urban_crew


def test_an_order_nothing_routes_is_taken_and_waits_unrouted_until_dispatched_by_hand(
    alice_actor, centre, billing_department
):
    ticket = take_order(
        actor=alice_actor,
        category="complaint",
        caller_phone="13800000001",
        description="营业厅服务态度差",
        party="营业厅",
        dispatch=True,
    )
    assert ticket.pk and ticket.status == Status.ACCEPTED and ticket.handling_unit is None
    assert routing.UNROUTED in ticket.to_complete
    note = ticket.events.get(kind=TicketEvent.Kind.NOTE)
    assert note.data == {"unrouted": True} and "兜底单位" in note.note  # in Chinese, the default
    assert "dispatch" in ticket.deadlines  # the dispatch clock runs on

    dispatched = services.ticket_dispatch(ticket=ticket, actor=alice_actor, unit=billing_department)
    assert dispatched.handling_unit == billing_department
    assert routing.UNROUTED not in dispatched.to_complete


def test_the_dispatch_action_without_a_unit_says_so_when_nothing_routes(alice_actor, centre):
    ticket = take_order(
        actor=alice_actor, category="report", caller_phone="13800000001", description="有人窃电"
    )
    with pytest.raises(services.DomainError) as error:
        services.ticket_dispatch(ticket=ticket, actor=alice_actor)
    assert "handling_unit" in error.value.field_errors
    ticket.refresh_from_db()
    assert ticket.status == Status.ACCEPTED


def test_the_migration_writes_the_old_routing_as_rules(db):
    RoutingRule.objects.all().delete()
    centre = _unit("centre", "客户服务中心", kind=HandlingUnit.Kind.CALL_CENTRE)
    hall = _unit("b-hall", "营业厅", categories=["application"])
    dept = _unit("a-dept", "客户服务部", categories=["application", "complaint"])
    station = _unit(
        "station", "城东供电所", kind=HandlingUnit.Kind.STATION, categories=["application"]
    )
    area = ServiceArea.objects.create(code="a", name="城东", area_type="urban", station=station)
    plain = ServiceArea.objects.create(code="b", name="城西", area_type="urban")

    migration = importlib.import_module("customers.migrations.0004_routing_rules")
    migration.seed(apps, None)
    migration.seed(apps, None)  # idempotent

    assert _route("application", area) == station  # the station listed the category
    assert _route("application", plain) == dept  # first by code: a-dept before b-hall
    assert _route("complaint", plain) == dept
    centre.refresh_from_db()
    assert centre.is_fallback
    assert _route("report", plain) == centre
    assert RoutingRule.objects.filter(unit=hall).count() == 1


def test_the_agent_is_told_when_the_order_just_taken_could_not_be_sent_on(
    alice, urban_customer, centre
):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)
    intake = reverse("tickets:intake")
    response = client.post(
        intake,
        {
            "caller_phone": "13800000001",
            "customer": urban_customer.pk,
            "category": "complaint",
            "subtype": SubType.objects.get(code="complaint-conduct").pk,
            "party": "城东营业厅",
            "description": "营业员态度恶劣",
        },
    )
    assert response.status_code == 302  # taken, not refused
    page = client.get(response["Location"]).content.decode()
    assert 'id="done-unrouted"' in page
    assert "Not sent on: no unit receives it." in page
