"""Idempotency-Key: a retry never makes a second order, on one thread or sixteen."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from api.models import IdempotencyRecord
from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"


def key(value: str) -> dict[str, str]:
    return {"HTTP_IDEMPOTENCY_KEY": value}


def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_byte_for_byte(
    ivr, urban_customer
):
    first = ivr.create(customer_account="3100000001", headers=key("ivr-0001"))
    again = ivr.create(customer_account="3100000001", headers=key("ivr-0001"))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Ticket.objects.count() == 1


def test_the_same_body_with_its_keys_in_another_order_is_the_same_request(ivr):
    first = ivr.post(
        TICKETS,
        {"category": "repair", "caller_phone": "13800000001", "description": "没电"},
        **key("k"),
    )
    again = ivr.post(
        TICKETS,
        {"description": "没电", "caller_phone": "13800000001", "category": "repair"},
        **key("k"),
    )
    assert again.content == first.content
    assert Ticket.objects.count() == 1


def test_the_same_key_with_another_body_answers_409_and_creates_nothing(ivr):
    ivr.create(description="没电", headers=key("k"))
    response = ivr.create(description="电压低", headers=key("k"))
    assert response.status_code == 409
    assert response.json() == {
        "detail": "此 Idempotency-Key 已用于另一个不同的请求。",
        "code": "idempotency_key_reused",
    }
    assert list(Ticket.objects.values_list("description", flat=True)) == ["没电"]


def test_the_same_key_on_another_endpoint_answers_409(ivr):
    number = ivr.create(headers=key("k")).json()["number"]
    response = ivr.post(f"{TICKETS}{number}/dispatch/", {}, **key("k"))
    assert response.status_code == 409
    assert Ticket.objects.get().status == "accepted"


def test_keys_belong_to_one_client(ivr, wechat_hall):
    ivr.create(headers=key("shared-key"))
    other = wechat_hall.create(headers=key("shared-key"))
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other
    assert Ticket.objects.count() == 2


def test_a_refused_request_leaves_the_key_free_for_the_corrected_one(ivr):
    refused = ivr.create(caller_phone="12", headers=key("k"))
    assert refused.status_code == 400
    corrected = ivr.create(caller_phone="13800000001", headers=key("k"))
    assert corrected.status_code == 201
    assert Ticket.objects.count() == 1


def test_a_retried_action_gets_its_first_200_instead_of_409(ivr, urban_customer, bob):
    number = ivr.create(customer_account="3100000001").json()["number"]
    first = ivr.post(f"{TICKETS}{number}/dispatch/", {}, **key("dispatch-1"))
    again = ivr.post(f"{TICKETS}{number}/dispatch/", {}, **key("dispatch-1"))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    without_key = ivr.post(f"{TICKETS}{number}/dispatch/", {})
    assert without_key.status_code == 409
    assert Ticket.objects.get().events.filter(action="dispatch").count() == 1


def test_a_retried_call_event_replays_its_201(ivr):
    event = {"call_id": "CTI-7", "event": "ring", "at": "2026-11-27T08:00:00+08:00"}
    first = ivr.post("/api/v1/calls/", event, **key("ring-7"))
    again = ivr.post("/api/v1/calls/", event, **key("ring-7"))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content


@pytest.mark.parametrize("bad", ["", "has space", "x" * 256, "中文键"])
def test_an_unusable_key_answers_400_on_the_header(ivr, bad):
    response = ivr.create(headers={"HTTP_IDEMPOTENCY_KEY": bad})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert not Ticket.objects.exists()


def test_a_person_in_the_browser_is_not_held_to_keys(browser_of, alice):
    browser = browser_of(alice)
    assert browser.create(headers=key("k")).status_code == 201
    assert browser.create(headers=key("k")).status_code == 201
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"
)
@pytest.mark.django_db(transaction=True)
def test_sixteen_simultaneous_retries_make_one_order_and_sixteen_equal_answers(api_client):
    threads = 16
    start = threading.Barrier(threads)
    answers: list[tuple[int, bytes, bool]] = []
    errors: list[BaseException] = []
    body = {
        "category": "repair",
        "caller_phone": "13800000001",
        "description": "整栋楼停电",
        "channel": "ivr",
    }

    def post() -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Token {api_client.token}")
            start.wait()
            response = client.post(
                TICKETS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="storm-1"
            )
            answers.append(
                (response.status_code, response.content, response.has_header("Idempotent-Replayed"))
            )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    # The process's caches are warm, as in production: the key's unique index alone keeps
    # the fifteen out.
    warm = Client(HTTP_AUTHORIZATION=f"Token {api_client.token}")
    assert warm.post(TICKETS, body, content_type="application/json").status_code == 201
    workers = [threading.Thread(target=post) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    assert Ticket.objects.count() == 2  # the warm-up's and one of the sixteen
    assert IdempotencyRecord.objects.count() == 1
    assert {(status, content) for status, content, _replayed in answers} == {(201, answers[0][1])}
    assert len(answers) == threads
    assert sum(replayed for *_rest, replayed in answers) == threads - 1
