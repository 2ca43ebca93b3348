"""The wallboard's alarm for orders that no routing rule and no fallback unit received."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import translation
from order_cast import take_order

from customers.models import HandlingUnit
from dashboard import selectors
from tickets import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_after():
    # A request in English leaves English active in this thread (LocaleMiddleware): put
    # the default back, so the tests after this one see Chinese as they expect.
    yield
    translation.deactivate()


@pytest.fixture
def wall(db):
    # A supervisor of no unit: dave's department would receive the complaints.
    helen = User.objects.create_user(username="helen", password="pass-helen")
    helen.groups.add(Group.objects.get(name="supervisor"))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(helen)
    return client


def _complaint(actor, description="营业厅服务态度差"):
    return take_order(
        actor=actor,
        category="complaint",
        caller_phone="13800000001",
        description=description,
        party="营业厅",
        dispatch=True,
    )


def test_an_order_nothing_routes_is_on_the_wall_at_once_and_leaves_it_once_dispatched(
    wall, alice_actor, centre, urban_crew, django_assert_max_num_queries
):
    quiet = wall.get(reverse("dashboard:wallboard_live")).content.decode()
    assert 'id="unrouted-alarm"' not in quiet
    assert 'id="tile-unrouted"' in quiet

    first, second = _complaint(alice_actor), _complaint(alice_actor, "抄表员不上门")
    with django_assert_max_num_queries(14):
        html = wall.get(reverse("dashboard:wallboard_live")).content.decode()
    assert 'id="unrouted-alarm"' in html
    assert "2 orders no unit receives" in html
    assert first.number in html and second.number in html

    services.ticket_dispatch(ticket=first, actor=alice_actor, unit=urban_crew)
    count, orders = selectors.unrouted_orders(limit=30)
    assert (count, [o.number for o in orders]) == (1, [second.number])
    html = wall.get(reverse("dashboard:wallboard_live")).content.decode()
    assert "1 order no unit receives" in html and first.number not in html


def test_orders_routed_or_merely_waiting_for_dispatch_raise_no_alarm(
    alice_actor, centre, service_department
):
    routed = _complaint(alice_actor)
    waiting = take_order(
        actor=alice_actor, category="report", caller_phone="13800000002", description="有人窃电"
    )
    assert routed.handling_unit == service_department and waiting.handling_unit is None
    assert selectors.unrouted_orders(limit=30) == (0, [])


def test_once_a_fallback_unit_is_set_new_orders_route_and_the_count_is_cut_to_the_list(
    alice_actor, centre
):
    for n in range(3):
        _complaint(alice_actor, f"投诉{n}")
    count, orders = selectors.unrouted_orders(limit=2)
    assert count == 3 and len(orders) == 2

    HandlingUnit.objects.filter(pk=centre.pk).update(is_fallback=True)
    routed = _complaint(alice_actor, "又一次投诉")
    assert routed.handling_unit == centre
    assert selectors.unrouted_orders(limit=30)[0] == 3
