"""Personal data on the pages: masked unless the role's work needs it, and the logged reveal.

The order page, the lists and the caller card, for each role of the cast (privacy.rules).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from order_cast import take_order

from customers.models import CustomerPhone
from privacy.models import DisclosureLog
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

RESIDENT_ID = "110101199003071233"
MASKED_ID = "110101********1233"


@pytest.fixture
def application(alice_actor, urban_customer, service_department) -> Ticket:
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
def repair(alice_actor, urban_crew) -> Ticket:
    """A repair from a caller not on file, sent to bob's crew."""
    return take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13812345678",
        description="家里没电",
        address="城东幸福路9号",
        area_type="urban",
        handling_unit=urban_crew,
        dispatch=True,
    )


@pytest.fixture
def frank(db) -> User:
    user = User.objects.create_user(username="frank", password="pass-frank")
    user.groups.add(Group.objects.get(name="agent"))
    return user


def page_of(user, ticket) -> str:
    client = Client()
    client.force_login(user)
    return client.get(reverse("tickets:detail", args=[ticket.number])).content.decode()


def reveal_url(ticket, field: str) -> str:
    return reverse("tickets:reveal", args=[ticket.number, field])


# --- The order page, role by role --------------------------------------------------------------


def test_the_agent_who_took_the_order_sees_its_numbers_and_the_id_masked_with_a_button(
    alice, application
):
    page = page_of(alice, application)
    assert "13812345678" in page and "13987654321" in page
    assert RESIDENT_ID not in page and MASKED_ID in page
    assert reveal_url(application, "resident_id") in page
    assert reveal_url(application, "phone") not in page  # already shown


def test_another_agent_sees_the_numbers_masked_and_no_button(frank, application):
    page = page_of(frank, application)
    assert "13812345678" not in page and "138****5678" in page and "139****4321" in page
    assert RESIDENT_ID not in page and MASKED_ID in page
    assert 'id="reveal-resident-id"' not in page and 'id="reveal-phone"' not in page


def test_the_department_handling_it_sees_the_numbers_and_may_reveal_the_id(carol, application):
    page = page_of(carol, application)
    assert "13812345678" in page and MASKED_ID in page and RESIDENT_ID not in page
    assert 'id="reveal-resident-id"' in page


def test_the_crew_sees_the_callers_number_of_its_repair_to_reach_them_on_site(bob, repair):
    page = page_of(bob, repair)
    assert "13812345678" in page and 'id="reveal-phone"' not in page


def test_a_supervisor_sees_it_all_masked_with_both_buttons(dave, application):
    page = page_of(dave, application)
    assert "13812345678" not in page and "13987654321" not in page and RESIDENT_ID not in page
    assert "138****5678" in page and MASKED_ID in page
    assert 'id="reveal-phone"' in page and 'id="reveal-resident-id"' in page


def test_a_hastening_callers_number_is_shown_as_the_orders_numbers_are(
    dave, alice, alice_actor, repair
):
    from tickets import services

    services.ticket_hasten(ticket=repair, actor=alice_actor, caller_phone="13700001111", text="催")
    assert "137****1111" in page_of(dave, repair) and "13700001111" not in page_of(dave, repair)
    assert "13700001111" in page_of(alice, repair)


# --- The reveal: an explicit POST, logged once, shown once ----------------------------------------


def test_revealing_the_id_shows_it_once_and_logs_who_when_and_which_order(dave, application):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dave)
    client.get(reverse("tickets:detail", args=[application.number]))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post(reveal_url(application, "resident_id"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = response.content.decode()
    assert RESIDENT_ID in page and "13812345678" not in page  # that one field only
    log = DisclosureLog.objects.get()
    assert (log.kind, log.field, log.in_full) == ("reveal", "resident_id", True)
    assert (log.user, log.username, log.ticket, log.ticket_number) == (
        dave,
        "dave",
        application,
        application.number,
    )
    assert log.at is not None
    again = client.get(reverse("tickets:detail", args=[application.number])).content.decode()
    assert RESIDENT_ID not in again and MASKED_ID in again
    assert DisclosureLog.objects.count() == 1  # reading the page again logs nothing


def test_a_supervisor_reveals_the_phone_numbers_of_a_complaint_to_call_back(dave, application):
    client = Client()
    client.force_login(dave)
    page = client.post(reveal_url(application, "phone")).content.decode()
    assert "13812345678" in page and "13987654321" in page and RESIDENT_ID not in page
    assert DisclosureLog.objects.get().field == "phone"


def test_the_reveal_needs_the_csrf_token(dave, application):
    client = Client(enforce_csrf_checks=True)
    client.force_login(dave)
    response = client.post(reveal_url(application, "resident_id"))
    assert response.status_code == 403 and RESIDENT_ID not in response.content.decode()
    assert not DisclosureLog.objects.exists()


def test_the_reveal_is_a_post_never_a_link(dave, application):
    client = Client()
    client.force_login(dave)
    assert client.get(reveal_url(application, "resident_id")).status_code == 405
    assert not DisclosureLog.objects.exists()


@pytest.mark.parametrize("who", ["frank", "bob"])
def test_someone_the_rules_do_not_allow_gets_403_and_nothing_is_logged(
    request, who, application, urban_crew
):
    user = request.getfixturevalue(who)
    if who == "bob":  # a crew member, even of the unit handling the order
        Ticket.objects.filter(pk=application.pk).update(handling_unit=urban_crew)
    client = Client()
    client.force_login(user)
    response = client.post(reveal_url(application, "resident_id"))
    assert response.status_code == 403 and RESIDENT_ID not in response.content.decode()
    assert not DisclosureLog.objects.exists()


def test_an_unknown_field_reveals_nothing(dave, application):
    client = Client()
    client.force_login(dave)
    assert client.post(reveal_url(application, "password")).status_code == 403
    assert not DisclosureLog.objects.exists()


def test_an_order_the_person_may_not_see_is_404_and_logs_nothing(carol, repair):
    client = Client()
    client.force_login(carol)  # the department does not see the crew's repair
    assert client.post(reveal_url(repair, "phone")).status_code == 404
    assert not DisclosureLog.objects.exists()


# --- Lists and the caller card -----------------------------------------------------------------


def test_lists_show_the_callers_number_masked(alice, bob, repair):
    for user, url in ((alice, "tickets:my_orders"), (bob, "tickets:unit_orders")):
        client = Client()
        client.force_login(user)
        page = client.get(reverse(url)).content.decode()
        assert repair.number in page
        assert "138****5678" in page and "13812345678" not in page


def test_the_caller_card_shows_the_number_on_the_line_and_masks_the_others(alice, urban_customer):
    CustomerPhone.objects.create(customer=urban_customer, number="13711112222")
    client = Client()
    client.force_login(alice)
    card = client.get(reverse("tickets:caller_panel"), {"phone": "13800000001"}).content.decode()
    card = card[card.index('id="customer-card"') :]
    assert "13800000001" in card and "137****2222" in card and "13711112222" not in card
