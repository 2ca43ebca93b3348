"""One rule for who may take which action: the life-cycle table intersected with the role."""

from __future__ import annotations

import pytest

from tickets import services
from tickets.permissions import ticket_actions_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched_repair(alice_actor, urban_customer):
    return services.ticket_create(
        category="repair",
        caller_phone="13800000001",
        description="没电",
        actor=alice_actor,
        customer=urban_customer,
        dispatch=True,
    )


def test_an_agent_may_cancel_and_hasten_a_dispatched_repair_but_not_work_it(
    alice, dispatched_repair
):
    assert ticket_actions_for(user=alice, ticket=dispatched_repair) == ["cancel", "hasten"]


def test_the_crew_of_the_handling_unit_works_the_order(bob, dispatched_repair):
    assert ticket_actions_for(user=bob, ticket=dispatched_repair) == ["acknowledge", "arrive"]


def test_a_department_handler_of_another_unit_may_do_nothing(carol, dispatched_repair):
    assert ticket_actions_for(user=carol, ticket=dispatched_repair) == []


def test_a_supervisor_may_do_everything_the_state_allows(dave, dispatched_repair):
    assert ticket_actions_for(user=dave, ticket=dispatched_repair) == [
        "acknowledge",
        "arrive",
        "cancel",
        "merge",
        "hasten",
    ]


def test_an_agent_replies_only_to_a_callback_inquiry(
    alice, alice_actor, urban_customer, service_department
):
    complaint = services.ticket_create(
        category="complaint",
        caller_phone="13800000001",
        description="态度差",
        party="城东供电所",
        actor=alice_actor,
        dispatch=True,
    )
    callback = services.ticket_create(
        category="inquiry",
        caller_phone="13800000001",
        description="电费",
        actor=alice_actor,
        reply_form="callback",
        dispatch=True,
    )
    assert "reply" not in ticket_actions_for(user=alice, ticket=complaint)
    assert "reply" in ticket_actions_for(user=alice, ticket=callback)


def test_a_resolved_order_offers_the_return_visit_not_a_hastening(
    alice, alice_actor, urban_customer
):
    ticket = services.ticket_create(
        category="repair",
        caller_phone="13800000001",
        description="跳闸",
        actor=alice_actor,
        customer=urban_customer,
        inside_customer_installation=True,
    )
    assert ticket_actions_for(user=alice, ticket=ticket) == ["visit"]
