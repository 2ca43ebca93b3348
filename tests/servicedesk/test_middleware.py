"""The project's middleware: what pages and API requests each get."""

from __future__ import annotations

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
