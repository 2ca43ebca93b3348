"""The table of who sees personal data in full (privacy.rules), role by role."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from order_cast import take_order

from accounts.roles import Role
from privacy.rules import RULES, Field, in_full_on_order, may_reveal, order_personal_data
from servicedesk.actors import Actor

pytestmark = pytest.mark.django_db

RESIDENT_ID = "110101199003071233"


def test_every_role_has_its_row_in_the_table_for_every_field():
    # A new role is masked everywhere until someone writes down what its work needs.
    assert set(RULES) == set(Role.values)
    assert all(set(row) == set(Field.values) for row in RULES.values())


@pytest.fixture
def application(alice_actor, urban_customer, service_department):
    """A new connection taken by alice, sent to carol's department."""
    return take_order(
        actor=alice_actor,
        category="application",
        caller_phone="13812345678",
        description="新装",
        customer=urban_customer,
        resident_id=RESIDENT_ID,
        contact_name="张三",
        contact_phone="13987654321",
        dispatch=True,
    )


@pytest.fixture
def repair(alice_actor, urban_customer, urban_crew):
    return take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13812345678",
        description="家里没电",
        customer=urban_customer,
        dispatch=True,
    )


@pytest.fixture
def frank(db) -> User:
    """Another agent, who did not take these orders."""
    user = User.objects.create_user(username="frank", password="pass-frank")
    user.groups.add(Group.objects.get(name="agent"))
    return user


def test_the_agent_who_took_the_order_sees_its_phone_numbers_and_may_reveal_the_id(
    alice, application
):
    assert in_full_on_order(user=alice, ticket=application, field=Field.PHONE)
    assert not in_full_on_order(user=alice, ticket=application, field=Field.RESIDENT_ID)
    assert may_reveal(user=alice, ticket=application, field=Field.RESIDENT_ID)
    shown = order_personal_data(user=alice, ticket=application)
    assert shown.caller_phone == "13812345678" and shown.contact_phone == "13987654321"
    assert shown.resident_id == "110101********1233"
    assert shown.revealable == (Field.RESIDENT_ID,)


def test_another_agent_sees_the_order_masked_and_may_reveal_nothing(frank, application):
    shown = order_personal_data(user=frank, ticket=application)
    assert shown.caller_phone == "138****5678" and shown.contact_phone == "139****4321"
    assert shown.resident_id == "110101********1233"
    assert shown.revealable == ()


def test_the_department_handling_the_application_sees_the_numbers_and_may_reveal_the_id(
    carol, application
):
    shown = order_personal_data(user=carol, ticket=application)
    assert shown.caller_phone == "13812345678"
    assert shown.resident_id == "110101********1233"
    assert shown.revealable == (Field.RESIDENT_ID,)


def test_a_crew_member_sees_the_number_of_their_units_repair_to_call_on_site(bob, repair):
    assert order_personal_data(user=bob, ticket=repair).caller_phone == "13812345678"


def test_a_crew_member_of_another_unit_sees_it_masked(db, repair, rural_crew):
    other = User.objects.create_user(username="gus", password="pass-gus")
    other.groups.add(Group.objects.get(name="crew"))
    rural_crew.members.add(other)
    assert order_personal_data(user=other, ticket=repair).caller_phone == "138****5678"


def test_a_crew_member_may_never_reveal_a_resident_id(bob, application, urban_crew):
    application.handling_unit = urban_crew  # even on an order of their own unit
    assert not may_reveal(user=bob, ticket=application, field=Field.RESIDENT_ID)


def test_a_supervisor_sees_everything_masked_and_may_reveal_both(dave, application):
    shown = order_personal_data(user=dave, ticket=application)
    assert shown.caller_phone == "138****5678" and shown.resident_id == "110101********1233"
    assert shown.revealable == (Field.PHONE, Field.RESIDENT_ID)


def test_a_reveal_shows_that_one_field_in_full_on_that_answer(dave, application):
    shown = order_personal_data(user=dave, ticket=application, revealed=Field.RESIDENT_ID)
    assert shown.resident_id == RESIDENT_ID and shown.caller_phone == "138****5678"
    assert shown.revealable == (Field.PHONE,)


def test_an_order_without_a_resident_id_offers_no_button_for_it(
    dave, alice_actor, urban_customer, urban_crew
):
    ticket = take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13812345678",
        description="没电",
        customer=urban_customer,
    )
    assert order_personal_data(user=dave, ticket=ticket).revealable == (Field.PHONE,)


def test_an_order_from_an_integration_client_has_no_owner_to_see_it_in_full(
    alice, urban_customer, urban_crew
):
    ticket = take_order(
        actor=Actor(label="IVR"),
        category="repair",
        caller_phone="13812345678",
        description="没电",
        customer=urban_customer,
    )
    assert order_personal_data(user=alice, ticket=ticket).caller_phone == "138****5678"
