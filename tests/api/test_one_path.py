"""One path for every order: the console and the API take it through the same service, the
ORM writes every row (so signals, and the audit that listens to them, see each write), and
the rules of a new order answer with the same messages on both."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.db.models.signals import post_save
from django.urls import reverse

from sla.models import Timer
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import SubType, Ticket, TicketEvent

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def saved():
    """The model instances post_save announces while the test runs: (model name, created)."""
    seen: list[tuple[str, bool, int]] = []

    def receiver(sender, instance, created, **kwargs):
        if sender in (Ticket, TicketEvent, Timer):
            seen.append((sender.__name__, created, instance.pk))

    post_save.connect(receiver, dispatch_uid="test_one_path")
    yield seen
    post_save.disconnect(dispatch_uid="test_one_path")


def _created(seen, name):
    return {pk for model, created, pk in seen if model == name and created}


def test_a_console_submit_announces_the_order_its_timeline_and_its_timers(
    client, alice, urban_customer, saved
):
    client.force_login(alice)
    response = client.post(
        reverse("tickets:intake"),
        {
            "caller_phone": "13800000002",
            "category": "repair",
            "inside_installation": "no",
            "description": "家里突然没电了",
            "customer": urban_customer.pk,
        },
    )

    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert _created(saved, "Ticket") == {ticket.pk}
    assert _created(saved, "TicketEvent") == set(ticket.events.values_list("pk", flat=True))
    assert _created(saved, "Timer") == set(ticket.timers.values_list("pk", flat=True))
    assert set(ticket.timers.values_list("name", flat=True)) == {"dispatch", "arrival"}


def test_an_api_create_announces_the_order_its_timeline_and_its_timer(ivr, saved):
    response = ivr.create(headers={"HTTP_IDEMPOTENCY_KEY": "k-1"})

    assert response.status_code == 201
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert _created(saved, "Ticket") == {ticket.pk}
    assert (
        _created(saved, "TicketEvent") == set(ticket.events.values_list("pk", flat=True)) != set()
    )
    assert _created(saved, "Timer") == set(ticket.timers.values_list("pk", flat=True)) != set()


BAD_APPLICATION = {
    "caller_phone": "13800000002",
    "category": "application",
    "description": "新装一户居民用电",
    "resident_id": "110105194912310021",  # wrong check digit
    "contact_name": "王五",
    "contact_phone": "999",
}


def test_a_bad_application_gets_the_same_messages_on_the_console_and_in_the_api(client, alice, ivr):
    client.force_login(alice)
    subtype = "app-new"
    page = client.post(
        reverse("tickets:intake"), {**BAD_APPLICATION, "subtype": _subtype_pk(subtype)}
    )
    api = ivr.post("/api/v1/tickets/", {**BAD_APPLICATION, "subtype": subtype})

    assert page.status_code == 400 and api.status_code == 400
    console_errors = {
        name: list(messages) for name, messages in page.context["form"].errors.items()
    }
    api_errors = api.json()["errors"]
    assert set(api_errors) == {"resident_id", "contact_phone"}
    for name in ("resident_id", "contact_phone"):
        assert console_errors[name] == api_errors[name]
    assert not Ticket.objects.exists()


def _subtype_pk(code):
    return SubType.objects.get(code=code).pk


@time_machine.travel(NOW, tick=False)
def test_a_hastening_moves_the_orders_updated_at(alice_actor, urban_customer, ivr):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=datetime(2026, 11, 27, 1, 0, tzinfo=UTC),
    )
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=datetime(2026, 11, 27, 1, 0, tzinfo=UTC))

    services.ticket_hasten(ticket=ticket, actor=alice_actor, text="还没人来", now=NOW)
    services.ticket_hasten(ticket=ticket, actor=alice_actor, text="又打来", now=NOW)

    ticket.refresh_from_db()
    assert ticket.supervised and ticket.updated_at == NOW
    listed = ivr.get("/api/v1/tickets/").json()["results"][0]
    assert listed["updated_at"] == "2026-11-27T10:00:00+08:00" and listed["supervised"] is True


def test_the_api_list_and_the_detail_answer_json_the_browser_can_read(ivr):
    ivr.create()
    body = ivr.get("/api/v1/tickets/")
    assert body["Content-Type"].startswith("application/json")
    assert json.loads(body.content)["results"][0]["deadlines"]
