"""The project's middleware: what pages and API requests each get."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages import get_messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from servicedesk.middleware import MessageMiddleware


def _through(path: str):
    request = RequestFactory().get(path)
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    MessageMiddleware(lambda r: HttpResponse()).process_request(request)
    return request


def test_a_page_request_can_carry_a_message_to_the_next_page():
    request = _through("/tickets/")
    messages.success(request, "工单已派发")
    assert [str(m) for m in get_messages(request)] == ["工单已派发"]


def test_an_api_request_gets_no_message_storage():
    request = _through("/api/v1/tickets/")
    assert not hasattr(request, "_messages")
    assert list(get_messages(request)) == []  # what a template would find: nothing


# --- Language (Django's LocaleMiddleware): cookie, then Accept-Language, then Chinese ------


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/tickets/", "/accounts/login/"])
@pytest.mark.parametrize(
    ("headers", "cookie", "language"),
    [
        ({}, None, "zh-hans"),
        ({"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}, None, "en"),
        ({"HTTP_ACCEPT_LANGUAGE": "fr"}, None, "zh-hans"),  # not offered: the default
        ({"HTTP_ACCEPT_LANGUAGE": "en"}, "zh-hans", "zh-hans"),  # the person's choice wins
    ],
)
def test_the_answer_is_in_the_language_asked_for(client, path, headers, cookie, language):
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get(path, **headers)
    assert response.status_code == (401 if path.startswith("/api/") else 200)
    assert response["Content-Language"] == language
    assert "Accept-Language" in response["Vary"]


def test_an_api_error_speaks_the_language_asked_for(client):
    chinese = client.get("/api/v1/tickets/").json()["detail"]
    english = client.get("/api/v1/tickets/", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert chinese != english
    assert english.isascii() and not chinese.isascii()
