"""The order page and My orders for the hand-back, the centre's check, re-dispatch and
termination: the forms a person is offered, their messages, and the queries they cost."""

from __future__ import annotations

import pytest
from django.urls import reverse
from order_cast import take_order

from servicedesk.actors import Actor
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(alice_actor, urban_customer) -> Ticket:
    return take_order(
        category="repair",
        caller_phone="13800000001",
        description="家里没电了",
        customer=urban_customer,
        dispatch=True,
        actor=alice_actor,
    )


@pytest.fixture
def handed_back(dispatched, bob) -> Ticket:
    crew = Actor(user=bob)
    services.ticket_record_arrival(ticket=dispatched, actor=crew)
    return services.ticket_handback(ticket=dispatched, actor=crew, cause="熔断器烧断")


def _action(ticket: Ticket, action: str) -> str:
    return reverse("tickets:action", args=[ticket.number, action])


def test_my_orders_lists_what_waits_for_the_agents_check_in_the_same_queries(
    client, alice, alice_actor, bob, urban_customer, handed_back, django_assert_num_queries
):
    client.force_login(alice)
    with django_assert_num_queries(5) as few:
        page = client.get(reverse("tickets:my_orders")).content.decode()
    to_check = page.split('id="to-check"')[1].split("</section>")[0]
    assert handed_back.number in to_check
    crew = Actor(user=bob)
    for _ in range(3):
        more = take_order(
            category="repair",
            caller_phone="13800000001",
            description="又没电",
            customer=urban_customer,
            dispatch=True,
            actor=alice_actor,
        )
        services.ticket_record_arrival(ticket=more, actor=crew)
        services.ticket_handback(ticket=more, actor=crew)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(reverse("tickets:my_orders")).content.decode()
    assert page.split('id="to-check"')[1].split("</section>")[0].count("data-number=") == 4


def test_the_owning_agent_is_offered_accept_return_and_terminate(
    client, alice, handed_back, django_assert_max_num_queries
):
    client.force_login(alice)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("tickets:detail", args=[handed_back.number])).content.decode()
    for action in ("accept_check", "return_check", "terminate"):
        assert f'class="action-form action-{action}"' in page
    assert 'id="return-reason"' in page and 'id="terminate-reason"' in page
    assert "action-resolve" not in page and "action-handback" not in page


def test_a_return_without_a_reason_shows_the_message_and_changes_nothing(
    client, alice, handed_back
):
    client.force_login(alice)
    response = client.post(_action(handed_back, "return_check"), {"reason": " "})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="err-return-reason" role="alert"' in page
    after = Ticket.objects.get(pk=handed_back.pk)
    assert (after.status, after.return_count) == ("handed_back", 0)

    client.post(_action(handed_back, "return_check"), {"reason": "未写明恢复时间"})
    assert Ticket.objects.get(pk=handed_back.pk).status == "on_site"


def test_the_crew_on_site_gets_one_hand_back_form(client, bob, dispatched):
    services.ticket_record_arrival(ticket=dispatched, actor=Actor(user=bob))
    client.force_login(bob)
    page = client.get(reverse("tickets:detail", args=[dispatched.number])).content.decode()
    assert 'class="action-form action-handback"' in page
    assert 'id="handback-cause"' in page
    assert "action-resolve" not in page
    client.post(_action(dispatched, "handback"), {"cause": "熔断", "power_restored": "1"})
    assert Ticket.objects.get(pk=dispatched.pk).status == "handed_back"


def test_the_crews_redispatch_form_lists_the_other_active_units(
    client, bob, dispatched, rural_crew, remote_crew, django_assert_max_num_queries
):
    remote_crew.is_active = False
    remote_crew.save()
    client.force_login(bob)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("tickets:detail", args=[dispatched.number])).content.decode()
    form = page.split('class="action-form action-redispatch"')[1].split("</form>")[0]
    assert 'value="crew-rural"' in form
    assert 'value="crew-urban"' not in form and 'value="crew-remote"' not in form
    assert 'class="action-form action-contact"' in page


def test_a_redispatch_to_an_unknown_unit_or_without_a_reason_is_refused_on_its_fields(
    client, bob, dispatched, rural_crew
):
    client.force_login(bob)
    response = client.post(_action(dispatched, "redispatch"), {"handling_unit": "crew-nowhere"})
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="err-redispatch-unit" role="alert"' in page
    assert 'id="err-redispatch-reason" role="alert"' in page
    assert Ticket.objects.get(pk=dispatched.pk).handling_unit_id == dispatched.handling_unit_id


def test_a_terminated_order_shows_its_reason_and_offers_nothing(client, alice, dispatched):
    client.force_login(alice)
    client.post(_action(dispatched, "terminate"), {"reason": "物业自管设备，非供电企业产权"})
    page = client.get(reverse("tickets:detail", args=[dispatched.number])).content.decode()
    assert "status-terminated" in page and "物业自管设备，非供电企业产权" in page
    assert "action-form" not in page
