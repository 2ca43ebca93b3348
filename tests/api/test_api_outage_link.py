"""Storm mode through the API: a repair from a caller whose area an active outage covers is
linked to it (merged, no crew of its own), and the answer says which outage and when power
is expected back, for the IVR to read out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from calls.models import Call
from outages.models import Outage, OutageDispatch
from tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def outage(urban_area, urban_crew):
    outage = Outage.objects.create(
        number="TD-9",
        kind=Outage.Kind.FAULT,
        title="10kV城东线故障",
        starts_at=NOW - timedelta(minutes=30),
        expected_restoration_at=NOW + timedelta(hours=2, minutes=30),
    )
    outage.service_areas.add(urban_area)
    OutageDispatch.objects.create(outage=outage, unit=urban_crew, at=outage.starts_at)
    return outage


@time_machine.travel(NOW, tick=False)
def test_a_repair_from_a_covered_account_is_linked_and_the_answer_names_the_outage(
    ivr, urban_customer, outage
):
    response = ivr.create(customer_account="3100000001", channel="ivr")
    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    assert body == {
        "number": ticket.number,
        "category": "repair",
        "status": "merged",
        "created_at": "2026-11-27T10:00:00+08:00",
        "deadlines": {},
        "to_complete": [],
        "outage": {"number": "TD-9", "expected_restoration_at": "2026-11-27T12:30:00+08:00"},
    }
    assert ticket.outage == outage and ticket.status == Status.MERGED
    assert ticket.handling_unit is None and ticket.dispatched_at is None
    assert not TicketEvent.objects.filter(action="dispatch").exists()
    assert OutageDispatch.objects.filter(outage=outage).count() == 1


@time_machine.travel(NOW, tick=False)
def test_a_covered_feeder_links_the_call_too_and_its_call_is_told_about_the_outage(
    ivr, rural_customer, outage
):
    Outage.objects.filter(pk=outage.pk).update(feeders=["rural-1-10kV-1"])
    outage.service_areas.clear()
    ivr.post("/api/v1/calls/", {"call_id": "CTI-9", "event": "ring", "at": NOW.isoformat()})
    response = ivr.create(customer_account="3100000002", call_id="CTI-9")
    assert response.json()["outage"]["number"] == "TD-9"
    assert Call.objects.get(call_id="CTI-9").disposition == "outage_info"


@time_machine.travel(NOW, tick=False)
def test_a_repair_from_outside_the_outage_is_taken_as_usual(ivr, rural_customer, outage):
    body = ivr.create(customer_account="3100000002").json()
    assert body["status"] == "accepted" and body["outage"] is None
    assert "dispatch" in body["deadlines"]


@time_machine.travel(NOW, tick=False)
def test_a_complaint_from_a_covered_account_is_not_linked(ivr, urban_customer, outage):
    complaint = ivr.create(
        customer_account="3100000001", category="complaint", description="停电太久", party="—"
    )
    assert complaint.json()["outage"] is None
    assert not Ticket.objects.filter(outage=outage).exists()


@time_machine.travel(NOW, tick=False)
def test_an_announced_or_ended_outage_links_nothing(ivr, urban_customer, outage):
    Outage.objects.filter(pk=outage.pk).update(starts_at=NOW + timedelta(days=3))
    assert ivr.create(customer_account="3100000001").json()["outage"] is None
    Outage.objects.filter(pk=outage.pk).update(
        starts_at=NOW - timedelta(hours=1), restored_at=NOW - timedelta(minutes=1)
    )
    assert ivr.create(customer_account="3100000001").json()["outage"] is None
    assert not Ticket.objects.filter(outage=outage).exists()


@time_machine.travel(NOW, tick=False)
def test_a_repeat_with_the_same_key_returns_the_same_linked_order(ivr, urban_customer, outage):
    key = {"HTTP_IDEMPOTENCY_KEY": "storm-call-1"}
    first = ivr.create(customer_account="3100000001", headers=key)
    again = ivr.create(customer_account="3100000001", headers=key)
    assert again.content == first.content and again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.filter(outage=outage).count() == 1
