"""POST /api/v1/tickets/: the order is taken on the server's clock, with its deadlines; bad
input answers 400 with a message per field and stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from api.models import IdempotencyRecord
from calls.models import Call
from tickets.models import Ticket, TicketEvent

TICKETS = "/api/v1/tickets/"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@time_machine.travel(NOW, tick=False)
def test_an_ivr_repair_is_taken_with_its_dispatch_deadline(ivr, urban_customer):
    response = ivr.create(customer_account="3100000001", channel="ivr", subtype="repair-lv")
    assert response.status_code == 201
    body = response.json()
    ticket = Ticket.objects.get()
    assert body == {
        "number": ticket.number,
        "category": "repair",
        "status": "accepted",
        "created_at": "2026-11-27T10:00:00+08:00",
        "deadlines": {"dispatch": "2026-11-27T10:03:00+08:00"},
        "to_complete": [],
        "outage": None,
    }
    assert ticket.customer == urban_customer
    assert ticket.subtype.code == "repair-lv"
    assert ticket.channel == "ivr"
    assert ticket.area_type == "urban"
    assert ticket.created_via == "IVR"
    assert TicketEvent.objects.get(ticket=ticket).actor_label == "IVR"


@time_machine.travel(NOW, tick=False)
def test_a_complaint_gets_its_dispatch_and_five_day_reply_deadlines(ivr, urban_customer):
    response = ivr.create(
        category="complaint",
        description="抢修人员态度差",
        party="城区抢修一班",
        subtype="complaint-conduct",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["deadlines"] == {
        "dispatch": "2026-11-27T10:03:00+08:00",
        "reply": "2026-12-02T10:00:00+08:00",
    }


@time_machine.travel(NOW, tick=False)
def test_the_client_cannot_set_the_time_of_the_order(ivr):
    response = ivr.create(
        created_at="2020-01-01T00:00:00+08:00", call_at="2020-01-01T00:00:00+08:00"
    )
    assert response.status_code == 201
    assert Ticket.objects.get().created_at == NOW


def test_an_order_taken_during_a_reported_call_is_linked_to_it(ivr, urban_customer):
    ivr.post(
        "/api/v1/calls/",
        {
            "call_id": "CTI-1",
            "event": "ring",
            "at": "2026-11-27T09:59:00+08:00",
            "caller_phone": "13800000001",
        },
    )
    response = ivr.create(call_id="CTI-1")
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.call.call_id == "CTI-1"
    assert Call.objects.get().disposition == "order"


def test_a_repair_with_no_known_area_is_taken_with_the_urban_limit_and_flagged(ivr):
    response = ivr.create(caller_phone="010-12345678")
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert (ticket.area_type, ticket.area_type_unconfirmed) == ("urban", True)


def test_unknown_codes_answer_400_on_each_field_and_store_nothing(ivr):
    response = ivr.create(
        customer_account="9999999999", subtype="repair-nope", detail="nope", call_id="CTI-unknown"
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "请修改标出的字段。",
        "code": "invalid",
        "errors": {
            "customer_account": ["没有客户使用此户号。"],
            "subtype": ["未知的子类代码。"],
            "detail": ["未知的细类代码。"],
            "call_id": ["话务系统没有报告过此通话编号。"],
        },
    }
    assert not Ticket.objects.exists()


def test_rules_of_the_service_answer_400_per_field_in_chinese(ivr):
    response = ivr.create(
        caller_phone="12", category="application", resident_id="110105194912310021"
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"caller_phone", "resident_id"}
    assert "校验" in errors["resident_id"][0]
    assert not Ticket.objects.exists()


def test_errors_are_in_english_when_the_client_asks(ivr):
    response = ivr.post(
        TICKETS,
        {"category": "gas", "caller_phone": "13800000001", "description": ""},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Please correct the marked fields.",
        "code": "invalid",
        "errors": {
            "category": ['"gas" is not a valid choice.'],
            "description": ["This field may not be blank."],
        },
    }


def test_a_sub_type_of_another_category_is_refused_by_the_service(ivr):
    response = ivr.create(category="inquiry", subtype="repair-lv")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["subtype"]


@pytest.mark.parametrize("raw", ["{bad", "", "null", "[]", '"text"', "[1, 2]", '{"category": '])
def test_malformed_or_non_object_bodies_answer_400(ivr, raw):
    response = ivr.post(TICKETS, raw=raw)
    assert response.status_code == 400
    assert response.json()["code"] in {"parse_error", "invalid"}
    assert response.json()["errors"]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": 5}, "category"),
        ({"category": None}, "category"),
        ({"caller_phone": 13800000001}, "caller_phone"),
        ({"caller_phone": ["13800000001"]}, "caller_phone"),
        ({"description": {"text": "没电"}}, "description"),
        ({"description": True}, "description"),
        ({"channel": "fax"}, "channel"),
        ({"area_type": "city"}, "area_type"),
        ({"customer_account": 3100000001}, "customer_account"),
    ],
)
def test_wrong_types_and_unknown_enum_values_answer_400_on_the_field(ivr, fields, field):
    response = ivr.create(**fields)
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"description": "停" * 100_000}, "description"),
        ({"address": "路" * 5_000}, "address"),
        ({"caller_phone": "1" * 5_000}, "caller_phone"),
        ({"call_id": "c" * 1_000}, "call_id"),
        ({"description": "没电\x00"}, "description"),
        ({"party": "\ud800"}, "party"),
    ],
)
def test_huge_strings_and_impossible_characters_answer_400_not_500(ivr, fields, field):
    response = ivr.create(**{"category": "complaint", "party": "供电所", **fields})
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not Ticket.objects.exists()


def test_a_refused_order_leaves_no_order_no_call_and_no_key(ivr):
    response = ivr.create(caller_phone="not a phone", headers={"HTTP_IDEMPOTENCY_KEY": "k-1"})
    assert response.status_code == 400
    assert not Ticket.objects.exists()
    assert not Call.objects.exists()
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize(
    ("category", "reply_due"),
    [("complaint", "2026-12-02T10:00:00+08:00"), ("report", "2026-12-07T10:00:00+08:00")],
)
@time_machine.travel(NOW, tick=False)
def test_a_complaint_or_report_with_only_the_three_required_fields_is_taken_and_flagged(
    ivr, category, reply_due
):
    response = ivr.post(
        TICKETS, {"category": category, "caller_phone": "13800000001", "description": "态度差"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["deadlines"] == {"dispatch": "2026-11-27T10:03:00+08:00", "reply": reply_due}
    assert body["to_complete"] == ["party", "subtype"]
    assert Ticket.objects.get(number=body["number"]).to_complete == ["party", "subtype"]


@pytest.mark.parametrize("category", ["repair", "inquiry", "application", "complaint", "report"])
def test_every_category_is_taken_with_only_category_phone_and_description(ivr, category):
    response = ivr.post(
        TICKETS, {"category": category, "caller_phone": "13800000001", "description": "来电"}
    )

    assert response.status_code == 201, response.json()
    assert response.json()["category"] == category
