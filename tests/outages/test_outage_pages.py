"""The outage register pages: who sees and does what, the list in a fixed number of queries
whatever the outages and calls, registering through the form, the outage page's actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from outage_cast import bj, fault, planned

from outages import services
from outages.models import Outage
from servicedesk.actors import Actor
from tickets import services as ticket_services
from tickets.intake import TicketDraft
from tickets.models import Status, Ticket

pytestmark = pytest.mark.django_db

NOW = bj(2025, 6, 3, 10, 3)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def desk(client, bob):
    client.force_login(bob)
    return client


def _outages(n, *, actor, areas, customer, agent):
    for i in range(n):
        outage = services.outage_register(
            draft=fault(feeders=[f"F{i}"], service_areas=areas, title=f"故障{i}"), actor=actor
        )
        for _call in range(2):
            ticket_services.ticket_create_for_outage(
                outage=outage,
                draft=TicketDraft(
                    category="repair",
                    caller_phone="13800000001",
                    description="没电",
                    customer=customer,
                ),
                actor=agent,
            )
    services.outage_register(draft=planned(), actor=actor)
    over = services.outage_register(draft=fault(feeders=["F-over"]), actor=actor)
    ticket_services.tickets_resolve_for_outage(outage=over, actor=actor)


def test_everyone_with_a_role_reads_the_register_and_only_the_desk_registers(client, alice, carol):
    for user in (alice, carol):
        client.force_login(user)
        assert client.get(reverse("outages:list")).status_code == 200
        assert client.get(reverse("outages:create")).status_code == 403
    client.logout()
    assert client.get(reverse("outages:list")).status_code == 302


@pytest.mark.parametrize("outages", [1, 6])
def test_the_list_asks_a_fixed_number_of_queries_whatever_the_outages_and_calls(
    desk, bob, urban_area, urban_customer, alice_actor, outages, django_assert_num_queries
):
    _outages(
        outages,
        actor=Actor(user=bob),
        areas=[urban_area],
        customer=urban_customer,
        agent=alice_actor,
    )
    # session, user, roles, the outages not over and those ended (with their counts and
    # crews), their areas
    with django_assert_num_queries(6):
        response = desk.get(reverse("outages:list"))
    html = response.content.decode()
    register = response.context["register"]
    assert len(register.active) == outages
    assert len(register.announced) == 1 and len(register.ended) == 1
    assert [o.linked_orders for o in register.active] == [2] * outages
    assert html.count('class="num linked-calls">0<') == outages + 2  # calls not from the switch


def test_the_outage_page_asks_a_fixed_number_of_queries(
    desk,
    bob,
    urban_area,
    urban_customer,
    important_customer,
    alice_actor,
    django_assert_num_queries,
):
    _outages(
        1, actor=Actor(user=bob), areas=[urban_area], customer=urban_customer, agent=alice_actor
    )
    outage = Outage.objects.filter(kind="fault", restored_at__isnull=True).get()
    # session, user, roles, the outage (counts, crew), areas, important customers, timers,
    # history, its text messages by state
    with django_assert_num_queries(9):
        response = desk.get(reverse("outages:detail", args=[outage.number]))
    html = response.content.decode()
    assert important_customer.name in html and 'id="authority-report"' in html


def test_the_desk_registers_a_fault_through_the_form(desk, bob, urban_area, urban_crew):
    response = desk.post(
        reverse("outages:create"),
        {
            "kind": "fault",
            "title": "10kV城东线故障",
            "cause": "电缆故障",
            "starts_at": "2025-06-03T09:58",
            "confirmed_at": "2025-06-03T10:00",
            "expected_restoration_at": "2025-06-03T12:00",
            "service_areas": [urban_area.pk],
            "feeders": "F1\nF2、F3",
        },
    )
    outage = Outage.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("outages:detail", args=[outage.number])
    assert outage.starts_at == bj(2025, 6, 3, 9, 58) and outage.feeders == ["F1", "F2", "F3"]
    assert outage.dispatch.unit == urban_crew and outage.created_by == bob


def test_a_refused_form_shows_the_message_on_its_field(desk):
    response = desk.post(
        reverse("outages:create"),
        {
            "kind": "planned",
            "title": "检修",
            "starts_at": "2025-06-05T08:00",
            "notice_at": "2025-06-03T08:00",
            "transformer_areas": "T1",
        },
    )
    assert response.status_code == 400
    assert response.context["form"].errors["notice_at"]
    assert 'id="err-notice_at" role="alert"' in response.content.decode()
    assert not Outage.objects.exists()


def test_the_override_field_is_offered_to_supervisors_only(desk, dave):
    assert "notice_override_reason" not in desk.get(reverse("outages:create")).content.decode()
    desk.force_login(dave)
    assert "notice_override_reason" in desk.get(reverse("outages:create")).content.decode()


def test_power_restored_on_the_page_resolves_the_linked_orders(
    desk, bob, urban_area, urban_customer, alice_actor
):
    _outages(
        1, actor=Actor(user=bob), areas=[urban_area], customer=urban_customer, agent=alice_actor
    )
    outage = Outage.objects.filter(kind="fault", restored_at__isnull=True).get()
    response = desk.post(
        reverse("outages:end", args=[outage.number]), {"restored_at": "2025-06-03T10:02"}
    )
    assert response.status_code == 302
    assert set(Ticket.objects.filter(outage=outage).values_list("status", flat=True)) == {
        Status.RESOLVED
    }
    page = desk.get(reverse("outages:detail", args=[outage.number])).content.decode()
    assert 'id="visit-due"' in page
    again = desk.post(reverse("outages:end", args=[outage.number]), {})
    assert again.status_code == 409


def test_the_desk_updates_the_expected_restoration_and_a_past_time_is_refused(desk, bob):
    outage = services.outage_register(draft=fault(), actor=Actor(user=bob))
    url = reverse("outages:restoration", args=[outage.number])
    assert desk.post(url, {"expected_restoration_at": "2025-06-03T10:00"}).status_code == 400
    assert desk.post(url, {"expected_restoration_at": "2025-06-03T15:30"}).status_code == 302
    outage.refresh_from_db()
    assert outage.expected_restoration_at == bj(2025, 6, 3, 15, 30)


def test_only_a_supervisor_records_the_report_to_the_authority(
    desk, bob, dave, urban_area, important_customer
):
    outage = services.outage_register(
        draft=fault(service_areas=[urban_area]), actor=Actor(user=bob)
    )
    url = reverse("outages:authority", args=[outage.number])
    assert desk.post(url, {"note": "已报"}).status_code == 403
    desk.force_login(dave)
    assert desk.post(url, {"note": "已报能源局"}).status_code == 302
    outage.refresh_from_db()
    assert outage.reported_to_authority_by == dave


def test_the_desk_dispatches_an_outage_no_crew_was_known_for(desk, bob, rural_crew):
    outage = services.outage_register(draft=fault(), actor=Actor(user=bob))
    url = reverse("outages:dispatch", args=[outage.number])
    assert desk.post(url, {"unit": rural_crew.pk}).status_code == 302
    assert desk.post(url, {"unit": rural_crew.pk}).status_code == 409


def test_the_console_card_offers_the_active_outage_first(
    client, alice, urban_customer, urban_area, bob
):
    services.outage_register(draft=fault(service_areas=[urban_area]), actor=Actor(user=bob))
    client.force_login(alice)
    html = client.get(
        reverse("tickets:caller_panel"), {"customer": urban_customer.pk}
    ).content.decode()
    assert "outage-active" in html
    assert html.index('class="outages"') < html.index('id="customer-card"')


def test_an_edit_through_the_form_keeps_the_number(desk, bob):
    outage = services.outage_register(draft=fault(), actor=Actor(user=bob))
    page = desk.get(reverse("outages:edit", args=[outage.number]))
    assert page.status_code == 200 and 'value="2025-06-03T09:58"' in page.content.decode()
    response = desk.post(
        reverse("outages:edit", args=[outage.number]),
        {
            "kind": "fault",
            "title": "10kV城东线故障（扩大）",
            "starts_at": "2025-06-03T09:58",
            "confirmed_at": "2025-06-03T10:00",
            "expected_restoration_at": "2025-06-03T12:00",
            "feeders": "urban-1-10kV-1\nurban-1-10kV-2",
        },
    )
    assert response.status_code == 302
    outage.refresh_from_db()
    assert outage.title.endswith("（扩大）") and outage.feeders[-1] == "urban-1-10kV-2"
    assert outage.timers.filter(name="restoration_update", stopped_at__isnull=True).count() == 1
    assert timedelta(0) == outage.timers.get(name="entry").stopped_at - NOW
