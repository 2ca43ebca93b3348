"""A crew member sees and changes only its unit's orders, a department only its own — by
number, by id, in the lists and over the API — and an order one may not see answers 404,
never 403. A re-dispatch (转派) takes the order out of the old unit's sight."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from order_cast import take_order

from servicedesk.actors import Actor
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(alice_actor, urban_customer, rural_customer, service_department):
    def repair(customer):
        return take_order(
            category="repair",
            caller_phone=customer.phones.get().number,
            description="没电",
            customer=customer,
            dispatch=True,
            actor=alice_actor,
        )

    return {
        "urban": repair(urban_customer),
        "rural": repair(rural_customer),
        "complaint": take_order(
            category="complaint",
            caller_phone="13800000001",
            description="态度差",
            party="营业厅",
            dispatch=True,
            handling_unit=service_department,
            actor=alice_actor,
        ),
    }


def _api_post(client, order: Ticket, action: str, body: dict):
    return client.post(
        reverse(f"api_v1:ticket-{action}", args=[order.number]),
        json.dumps(body),
        content_type="application/json",
    )


def _api_numbers(client) -> set[str]:
    response = client.get(reverse("api_v1:tickets"))
    assert response.status_code == 200
    return {row["number"] for row in response.json()["results"]}


def test_a_crew_member_sees_only_its_units_orders_in_every_list(client, bob, orders):
    client.force_login(bob)
    page = client.get(reverse("tickets:unit_orders")).content.decode()
    assert orders["urban"].number in page
    assert orders["rural"].number not in page and orders["complaint"].number not in page
    assert _api_numbers(client) == {orders["urban"].number}


def test_a_crew_member_gets_404_for_another_units_order_by_number_and_by_id(client, bob, orders):
    client.force_login(bob)
    for other in (orders["rural"], orders["complaint"]):
        for key in (other.number, str(other.pk)):
            assert client.get(reverse("tickets:detail", args=[key])).status_code == 404
            assert client.get(reverse("api_v1:ticket-detail", args=[key])).status_code == 404
    # Its own order by id is no way round either: orders are named by number.
    assert client.get(reverse("tickets:detail", args=[orders["urban"].pk])).status_code == 404
    assert client.get(reverse("tickets:detail", args=[orders["urban"].number])).status_code == 200


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("acknowledge", {}),
        ("contact", {}),
        ("arrive", {}),
        ("redispatch", {"handling_unit": "crew-urban", "reason": "转回"}),
        ("handback", {"cause": "x"}),
    ],
)
def test_a_crew_member_changes_nothing_on_another_units_order(client, bob, orders, action, body):
    client.force_login(bob)
    rural = orders["rural"]
    before = (rural.status, rural.events.count())
    page = client.post(reverse("tickets:action", args=[rural.number, action]), body)
    assert page.status_code == 404
    assert _api_post(client, rural, action, body).status_code == 404
    after = Ticket.objects.get(pk=rural.pk)
    assert (after.status, after.events.count()) == before


def test_a_crew_member_works_its_own_order_on_the_page_and_over_the_api(client, bob, orders):
    client.force_login(bob)
    urban = orders["urban"]
    page = client.post(
        reverse("tickets:action", args=[urban.number, "contact"]), {"note": "已联系"}
    )
    assert page.status_code == 302
    assert _api_post(client, urban, "arrive", {}).json()["status"] == "on_site"
    assert Ticket.objects.get(pk=urban.pk).contacted_at is not None


def test_a_department_sees_and_changes_only_its_own_orders(client, carol, orders):
    client.force_login(carol)
    assert _api_numbers(client) == {orders["complaint"].number}
    page = client.get(reverse("tickets:unit_orders")).content.decode()
    assert orders["complaint"].number in page and orders["urban"].number not in page
    for other in (orders["urban"], orders["rural"]):
        assert client.get(reverse("tickets:detail", args=[other.number])).status_code == 404
        assert _api_post(client, other, "contact", {}).status_code == 404
    handed = _api_post(client, orders["complaint"], "handback", {"reply": "已致歉"})
    assert handed.json()["status"] == "handed_back"


def test_after_a_redispatch_the_old_unit_no_longer_sees_the_order(client, bob, orders, rural_crew):
    client.force_login(bob)
    urban = orders["urban"]
    response = client.post(
        reverse("tickets:action", args=[urban.number, "redispatch"]),
        {"handling_unit": "crew-rural", "reason": "地址属城郊"},
    )
    # Back to the unit's list: the order is no longer the crew's to open.
    assert response.status_code == 302 and response["Location"] == reverse("tickets:unit_orders")
    assert Ticket.objects.get(pk=urban.pk).handling_unit == rural_crew
    assert client.get(reverse("tickets:detail", args=[urban.number])).status_code == 404
    assert urban.number not in _api_numbers(client)


def test_the_api_answers_a_redispatch_with_the_order_the_unit_just_passed_on(client, bob, orders):
    client.force_login(bob)
    answer = _api_post(
        client, orders["urban"], "redispatch", {"handling_unit": "crew-rural", "reason": "属城郊"}
    )
    assert answer.status_code == 200 and answer.json()["handling_unit"] == "crew-rural"
    # …and then it is gone from the crew's sight.
    detail = client.get(reverse("api_v1:ticket-detail", args=[orders["urban"].number]))
    assert detail.status_code == 404


def test_a_handed_back_order_stays_on_the_units_list_until_the_check(
    client, bob, alice_actor, orders
):
    crew = Actor(user=bob)
    services.ticket_record_arrival(ticket=orders["urban"], actor=crew)
    services.ticket_handback(ticket=orders["urban"], actor=crew)
    client.force_login(bob)
    assert orders["urban"].number in client.get(reverse("tickets:unit_orders")).content.decode()
    services.ticket_check_accept(ticket=orders["urban"], actor=alice_actor)
    assert orders["urban"].number not in client.get(reverse("tickets:unit_orders")).content.decode()
