"""One rule for who may take which action: the life-cycle table intersected with the role."""

from __future__ import annotations

import pytest
from order_cast import take_order

from tickets.permissions import ticket_actions_for

pytestmark = pytest.mark.django_db


def order(actor, category, description, **extra):
    """An order from the usual caller; `extra` goes to ticket_create as it is."""
    return take_order(
        category=category, caller_phone="13800000001", description=description, **extra, actor=actor
    )


@pytest.fixture
def dispatched_repair(alice_actor, urban_customer):
    return order(alice_actor, "repair", "没电", customer=urban_customer, dispatch=True)


def test_an_agent_may_cancel_and_hasten_a_dispatched_repair_but_not_work_it(
    alice, dispatched_repair
):
    # The order is hers (首问负责): she may also terminate it as outside the utility's scope.
    assert ticket_actions_for(user=alice, ticket=dispatched_repair) == [
        "cancel",
        "terminate",
        "hasten",
    ]


def test_the_crew_of_the_handling_unit_works_the_order(bob, dispatched_repair):
    assert ticket_actions_for(user=bob, ticket=dispatched_repair) == [
        "acknowledge",
        "arrive",
        "redispatch",
        "contact",
    ]


def test_a_department_handler_of_another_unit_may_do_nothing(carol, dispatched_repair):
    assert ticket_actions_for(user=carol, ticket=dispatched_repair) == []


def test_a_supervisor_may_do_everything_the_state_allows(dave, dispatched_repair):
    assert ticket_actions_for(user=dave, ticket=dispatched_repair) == [
        "acknowledge",
        "arrive",
        "cancel",
        "merge",
        "redispatch",
        "contact",
        "terminate",
        "hasten",
    ]


def test_an_agent_replies_only_to_a_callback_inquiry(
    alice, alice_actor, urban_customer, service_department
):
    complaint = order(alice_actor, "complaint", "态度差", party="城东供电所", dispatch=True)
    callback = order(alice_actor, "inquiry", "电费", reply_form="callback", dispatch=True)
    assert "reply" not in ticket_actions_for(user=alice, ticket=complaint)
    assert "reply" in ticket_actions_for(user=alice, ticket=callback)


def test_a_resolved_order_offers_the_return_visit_not_a_hastening(
    alice, alice_actor, urban_customer
):
    ticket = order(
        alice_actor, "repair", "跳闸", customer=urban_customer, inside_customer_installation=True
    )
    assert ticket_actions_for(user=alice, ticket=ticket) == ["visit"]


# --- The centre's check and the unit's hand-back (回单审核) ----------------------------------


@pytest.fixture
def handed_back_repair(alice_actor, bob, dispatched_repair):
    from servicedesk.actors import Actor
    from tickets import services

    crew = Actor(user=bob)
    services.ticket_record_arrival(ticket=dispatched_repair, actor=crew)
    return services.ticket_handback(ticket=dispatched_repair, actor=crew, cause="熔断")


def test_the_owning_agent_checks_a_handed_back_order(alice, handed_back_repair):
    assert ticket_actions_for(user=alice, ticket=handed_back_repair) == [
        "accept_check",
        "return_check",
        "terminate",
        "hasten",
    ]


def test_another_agent_only_hastens_a_handed_back_order_it_did_not_take(
    handed_back_repair, django_user_model
):
    from django.contrib.auth.models import Group

    other = django_user_model.objects.create_user(username="hank")
    other.groups.add(Group.objects.get(name="agent"))
    assert ticket_actions_for(user=other, ticket=handed_back_repair) == ["hasten"]


def test_a_supervisor_checks_any_handed_back_order(dave, handed_back_repair):
    assert ticket_actions_for(user=dave, ticket=handed_back_repair) == [
        "accept_check",
        "return_check",
        "terminate",
        "hasten",
    ]


def test_the_crew_hands_back_but_does_not_check_its_own_result(bob, handed_back_repair):
    assert ticket_actions_for(user=bob, ticket=handed_back_repair) == []


def test_the_crew_on_site_hands_back_under_one_form(bob, alice_actor, dispatched_repair):
    from servicedesk.actors import Actor
    from tickets import services

    on_site = services.ticket_record_arrival(ticket=dispatched_repair, actor=Actor(user=bob))
    assert ticket_actions_for(user=bob, ticket=on_site) == ["resolve", "contact", "handback"]
