"""When the database or the broker is gone for a moment: a clear JSON 503 to send again,
never Django's HTML 500, and nothing half stored. (`tests/test_faults.py` does it for real:
connections terminated, Redis shut down, the worker killed.)"""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory
from kombu.exceptions import OperationalError as BrokerError

from api.exceptions import server_error
from api.models import IdempotencyRecord
from tickets import services as ticket_services
from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"
ORDER = {"category": "repair", "caller_phone": "13800000001", "description": "家里没电了"}


def dropped_connection(**_kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def assert_send_again(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "unavailable"
    assert response.json()["detail"]


def test_a_connection_lost_after_the_order_was_written_answers_503_and_keeps_nothing(
    ivr, monkeypatch
):
    # The order, its timeline line and its timer are written; the key, written last, is not.
    monkeypatch.setattr("api.idempotency.idempotency_record", dropped_connection)
    response = ivr.create(headers={"HTTP_IDEMPOTENCY_KEY": "ivr-1"})
    assert_send_again(response)
    assert not Ticket.objects.exists()
    assert not IdempotencyRecord.objects.exists()


def test_the_same_request_sent_again_after_a_503_takes_the_one_order(ivr, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr("api.idempotency.idempotency_record", dropped_connection)
        assert ivr.create(headers={"HTTP_IDEMPOTENCY_KEY": "ivr-1"}).status_code == 503
    again = ivr.create(headers={"HTTP_IDEMPOTENCY_KEY": "ivr-1"})
    assert again.status_code == 201
    assert list(Ticket.objects.values_list("number", flat=True)) == [again.json()["number"]]


def test_a_create_without_a_key_answers_503_too(ivr, monkeypatch):
    monkeypatch.setattr(ticket_services, "ticket_create", dropped_connection)
    assert_send_again(ivr.create())


def test_a_broker_that_cannot_be_reached_answers_503(ivr, monkeypatch):
    def broker_gone(**_kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(ticket_services, "ticket_create", broker_gone)
    assert_send_again(ivr.create())


def test_an_error_no_handler_knows_is_a_json_500_on_an_api_path(api_client, monkeypatch):
    def bug(**_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ticket_services, "ticket_create", bug)
    # As a real server answers: Django's handler500 instead of the exception in the test.
    client = Client(raise_request_exception=False, **api_client.headers)
    response = client.post(TICKETS, ORDER, content_type="application/json")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "server_error"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (OperationalError("the database system is starting up"), 503, "unavailable"),
        (KeyError("a bug"), 500, "server_error"),
    ],
)
def test_an_error_outside_any_view_on_an_api_path_is_json_too(error, status, code):
    # e.g. in a middleware, before DRF's handler could see it.
    request = RequestFactory().post(TICKETS)
    try:
        raise error
    except Exception:
        response = server_error(request)
    assert (response.status_code, response["Content-Type"]) == (status, "application/json")
    assert json.loads(response.content)["code"] == code


def test_a_page_keeps_djangos_own_error_page():
    request = RequestFactory().get("/tickets/")
    try:
        raise OperationalError("server closed the connection unexpectedly")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
