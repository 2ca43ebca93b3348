"""A request body over DATA_UPLOAD_MAX_MEMORY_SIZE (1 MiB) is refused with 413 and a clear
message: JSON in the API's shape for /api/, a page in the user's language elsewhere. Never
a 500, and nothing is stored."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tickets.models import Ticket

pytestmark = pytest.mark.django_db

TWO_MIB = 2 * 1024 * 1024


def _csrf_token(client: Client, page: str) -> str:
    """The form's token, from a GET of its page (which also sets the CSRF cookie)."""
    client.get(page)
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def test_the_limit_is_one_mebibyte():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 1024 * 1024


def test_an_api_create_of_two_mebibytes_is_413_in_the_api_shape(client, api_client):
    body = json.dumps(
        {"category": "inquiry", "caller_phone": "13800000001", "description": "x" * TWO_MIB}
    )

    response = client.post(
        reverse("api_v1:tickets"), body, content_type="application/json", **api_client.headers
    )

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": response.json()["detail"], "code": "too_large"}
    assert response.json()["detail"]
    assert not Ticket.objects.exists()


def test_a_browser_session_post_to_the_api_of_two_mebibytes_is_413_too(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    token = _csrf_token(client, reverse("accounts:login"))

    response = client.post(
        reverse("api_v1:tickets"),
        json.dumps({"description": "x" * TWO_MIB}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_form_of_two_mebibytes_on_a_page_is_a_413_page(alice):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)
    token = _csrf_token(client, reverse("tickets:intake"))

    response = client.post(
        reverse("tickets:intake"), {"csrfmiddlewaretoken": token, "description": "x" * TWO_MIB}
    )

    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert "servicedesk/request_too_large.html" in [t.name for t in response.templates]
    assert "1.0\xa0MB" in response.content.decode()
    assert not Ticket.objects.exists()


def test_the_login_page_refuses_a_huge_form_with_413():
    client = Client(enforce_csrf_checks=True)
    token = _csrf_token(client, reverse("accounts:login"))

    response = client.post(
        reverse("accounts:login"), {"csrfmiddlewaretoken": token, "username": "x" * TWO_MIB}
    )

    assert response.status_code == 413
    assert "servicedesk/request_too_large.html" in [t.name for t in response.templates]


def test_a_body_under_the_limit_is_read_as_usual(client, api_client):
    body = {"category": "inquiry", "caller_phone": "13800000001", "description": "x" * 500_000}

    response = client.post(
        reverse("api_v1:tickets"), body, content_type="application/json", **api_client.headers
    )

    assert response.status_code in (201, 400)


def test_another_bad_request_stays_a_400(client):
    from django.core.exceptions import SuspiciousOperation
    from django.test import RequestFactory

    from servicedesk.views import bad_request

    response = bad_request(RequestFactory().get("/"), SuspiciousOperation("odd"))

    assert response.status_code == 400
