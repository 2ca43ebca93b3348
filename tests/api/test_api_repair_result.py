"""The result fields of a repair and the way a reply was given, over the API: the same
service and the same checks as the crew and department pages (tickets.services)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
pytestmark = pytest.mark.django_db


@pytest.fixture
def on_site(ivr, urban_customer, bob) -> str:
    with time_machine.travel(NOW, tick=False):
        number = ivr.create(customer_account="3100000001").json()["number"]
        for action in ("dispatch", "arrive"):
            assert ivr.post(f"{TICKETS}{number}/{action}/", {}).status_code == 200
    return number


def test_a_crew_hands_back_with_the_restoration_time_the_asset_owner_and_the_charge(ivr, on_site):
    body = {
        "cause": "表箱内开关损坏",
        "work_done": "更换客户表后开关",
        "restored_at": "2026-11-27T10:40:00",  # Beijing time
        "asset_owner": "customer",
    }
    with time_machine.travel(NOW.replace(hour=3), tick=False):
        answer = ivr.post(f"{TICKETS}{on_site}/handback/", body)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["status"] == "handed_back"
    ticket = Ticket.objects.get(number=on_site)
    assert ticket.restored_at == datetime(2026, 11, 27, 2, 40, tzinfo=UTC)
    # Customer-owned: paid, as the rule says, with no reason needed.
    assert (ticket.asset_owner, ticket.is_paid, ticket.paid_override_reason) == (
        "customer",
        True,
        "",
    )


def test_charging_otherwise_than_the_asset_owner_implies_needs_a_reason(ivr, on_site):
    body = {"cause": "线路老化", "asset_owner": "utility", "is_paid": True}
    with time_machine.travel(NOW.replace(hour=3), tick=False):
        answer = ivr.post(f"{TICKETS}{on_site}/resolve/", body)
    assert answer.status_code == 400
    assert list(answer.json()["errors"]) == ["paid_override_reason"]
    assert Ticket.objects.get(number=on_site).status == "on_site"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"restored_at": "2026-11-27T12:00:00"}, "restored_at"),  # later than now
        ({"asset_owner": "neighbour"}, "asset_owner"),
        ({"is_paid": "yes", "asset_owner": "utility"}, "is_paid"),
    ],
)
def test_a_wrong_result_field_answers_400_on_that_field(ivr, on_site, body, field):
    with time_machine.travel(NOW.replace(hour=3), tick=False):
        answer = ivr.post(f"{TICKETS}{on_site}/handback/", body)
    assert answer.status_code == 400
    assert field in answer.json()["errors"]
    assert Ticket.objects.get(number=on_site).status == "on_site"


def test_a_reply_says_how_it_was_given(ivr, service_department):
    number = ivr.create(
        category="complaint", description="抢修人员态度差", party="城东供电所"
    ).json()["number"]
    assert ivr.post(f"{TICKETS}{number}/dispatch/", {}).status_code == 200
    answer = ivr.post(f"{TICKETS}{number}/reply/", {"reply": "已致歉", "reply_form": "sms"})
    assert answer.status_code == 200, answer.json()
    assert Ticket.objects.get(number=number).reply_form == "sms"
