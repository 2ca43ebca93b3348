"""POST /api/v1/calls/: switch events in any order, repeated, give one call with the right times."""

from __future__ import annotations

import itertools

import pytest

from calls.models import Call

CALLS = "/api/v1/calls/"
EVENTS = [
    {"event": "ring", "at": "2026-11-27T10:00:00+08:00", "caller_phone": "13800000001"},
    {"event": "answer", "at": "2026-11-27T10:00:09+08:00", "agent": "alice"},
    {"event": "hangup", "at": "2026-11-27T10:03:30+08:00"},
]


def push(api, call_id: str, event: dict, status: int | None = None):
    response = api.post(CALLS, {"call_id": call_id, **event})
    if status is not None:
        assert response.status_code == status, response.json()
    return response


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_events_in_any_order_and_repeated_give_one_call_with_the_right_times(ivr, alice, order):
    for index in [*order, *order]:  # the switch resends everything
        push(ivr, "CTI-1", EVENTS[index])
    call = Call.objects.get()
    assert call.call_id == "CTI-1"
    assert call.caller_phone == "13800000001"
    assert call.agent == alice
    assert call.wait_seconds == 9
    assert (call.hangup_at - call.ring_at).total_seconds() == 210


def test_the_first_event_of_an_unknown_call_answers_201_and_repeats_answer_200(ivr):
    first = push(ivr, "CTI-2", EVENTS[0], status=201)
    assert first.json() == {
        "call_id": "CTI-2",
        "caller_phone": "13800000001",
        "agent": None,
        "ring_at": "2026-11-27T10:00:00+08:00",
        "answer_at": None,
        "hangup_at": None,
        "disposition": "",
    }
    repeat = push(ivr, "CTI-2", {**EVENTS[0], "at": "2026-11-27T10:00:05+08:00"}, status=200)
    assert repeat.json()["ring_at"] == "2026-11-27T10:00:00+08:00"


def test_a_hangup_before_anything_else_still_starts_a_call(ivr):
    push(ivr, "CTI-3", EVENTS[2], status=201)
    call = Call.objects.get()
    assert (call.ring_at, call.answer_at) == (None, None)
    assert call.hangup_at is not None


def test_a_time_without_an_offset_is_beijing_time(ivr):
    body = push(ivr, "CTI-4", {"event": "ring", "at": "2026-11-27T10:00:00"}, status=201).json()
    assert body["ring_at"] == "2026-11-27T10:00:00+08:00"


def test_the_hangup_starts_the_dispatch_clock_of_the_order_taken_on_the_call(ivr, urban_customer):
    push(ivr, "CTI-5", EVENTS[0], status=201)
    created = ivr.create(call_id="CTI-5", customer_account="3100000001").json()
    assert created["deadlines"] == {}  # the caller is still on the line
    push(ivr, "CTI-5", EVENTS[2], status=200)
    detail = ivr.get(f"/api/v1/tickets/{created['number']}/").json()
    assert detail["deadlines"] == {"dispatch": "2026-11-27T10:06:30+08:00"}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"event": "transfer", "at": "2026-11-27T10:00:00+08:00"}, "event"),
        ({"event": "ring", "at": "yesterday"}, "at"),
        ({"event": "ring", "at": "1850-01-01T00:00:00+08:00"}, "at"),
        ({"event": "ring"}, "at"),
        ({"event": "ring", "at": 1764208800}, "at"),
        ({"event": "answer", "at": "2026-11-27T10:00:00+08:00", "agent": "nobody"}, "agent"),
        (
            {"event": "ring", "at": "2026-11-27T10:00:00+08:00", "caller_phone": "1" * 50},
            "caller_phone",
        ),
    ],
)
def test_bad_events_answer_400_on_the_field_and_store_nothing(ivr, event, field):
    response = push(ivr, "CTI-9", event, status=400)
    assert list(response.json()["errors"]) == [field]
    assert not Call.objects.exists()


def test_a_call_id_is_required(ivr):
    response = ivr.post(CALLS, {"event": "ring", "at": "2026-11-27T10:00:00+08:00"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["call_id"]
