"""Sessions on shared call-centre desks: a sign-in lasts one shift (9 hours) at most and ends
when the browser closes; the cookie is out of reach of scripts; reading a page does not
rewrite the session."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _sign_in(client, user):
    return client.post(
        reverse("accounts:login"), {"username": user.username, "password": "pass-" + user.username}
    )


def test_a_sign_in_lasts_a_shift_and_ends_with_the_browser():
    assert settings.SESSION_COOKIE_AGE == 9 * 3600
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert settings.SESSION_SAVE_EVERY_REQUEST is False


def test_the_session_cookie_is_a_browser_session_cookie_scripts_cannot_read(client, alice):
    response = _sign_in(client, alice)

    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["max-age"] == "" and cookie["expires"] == ""  # gone when the browser closes
    assert cookie["samesite"] == "Lax"


def test_after_nine_hours_the_agent_signs_in_again(client, alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _sign_in(client, alice)
    with time_machine.travel(start + timedelta(hours=8, minutes=59), tick=False):
        assert client.get(reverse("tickets:intake")).status_code == 200
    with time_machine.travel(start + timedelta(hours=9, minutes=1), tick=False):
        response = client.get(reverse("tickets:intake"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_shift_length_comes_from_the_environment(monkeypatch):
    import importlib

    import servicedesk.settings as base

    monkeypatch.setenv("SESSION_SHIFT_HOURS", "12")
    try:
        assert importlib.reload(base).SESSION_COOKIE_AGE == 12 * 3600
    finally:
        monkeypatch.undo()
        importlib.reload(base)
