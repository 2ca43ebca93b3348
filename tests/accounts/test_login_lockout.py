"""Sign-in throttling (django-axes): five failed sign-ins for one user name from one address
lock that name out there for 15 minutes; the login page says so, in a page and not a bare
403; other agents on the same desk and API tokens are not affected."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")
DESK = "10.1.1.21"
OTHER_DESK = "10.1.1.22"


def _sign_in(client: Client, username: str, password: str, desk: str = DESK, **extra):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=desk, **extra
    )


def _fail(client: Client, username: str, times: int, desk: str = DESK):
    return [_sign_in(client, username, "wrong-password", desk) for _ in range(times)]


def test_the_limit_and_cool_off_are_five_failures_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_four_failures_still_let_the_agent_sign_in(client, alice):
    responses = _fail(client, "alice", 4)
    assert [r.status_code for r in responses] == [200] * 4

    assert _sign_in(client, "alice", "pass-alice").status_code == 302


def test_the_fifth_failure_locks_the_user_out_with_a_notice_on_the_login_page(client, alice):
    *_, fifth = _fail(client, "alice", 5)

    assert fifth.status_code == 429
    assert "accounts/login.html" in [t.name for t in fifth.templates]
    assert fifth.context["lockout"]
    body = fifth.content.decode()
    assert 'class="error lockout"' in body
    assert 'name="username"' in body  # the form is there for another agent
    assert 'value="alice"' in body


def test_the_notice_names_the_user_and_the_minutes(alice):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    *_, fifth = _fail(client, "alice", 5)

    notice = fifth.context["lockout"]
    assert "alice" in notice
    assert "15 minutes" in notice
    assert "administrator" in notice


def test_a_locked_out_user_is_refused_even_with_the_right_password(client, alice):
    _fail(client, "alice", 5)

    response = _sign_in(client, "alice", "pass-alice")

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_another_agent_on_the_same_desk_still_signs_in(client, alice, bob):
    _fail(client, "alice", 5)

    assert _sign_in(client, "bob", "pass-bob").status_code == 302


def test_the_same_user_on_another_desk_still_signs_in(client, alice):
    _fail(client, "alice", 5)

    assert _sign_in(client, "alice", "pass-alice", desk=OTHER_DESK).status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, alice):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _fail(client, "alice", 5)
    with time_machine.travel(now + timedelta(minutes=14), tick=False):
        assert _sign_in(client, "alice", "pass-alice").status_code == 429
    # The retry at 14 minutes does not restart the clock: the notice's minutes hold.
    with time_machine.travel(now + timedelta(minutes=15, seconds=1), tick=False):
        assert _sign_in(client, "alice", "pass-alice").status_code == 302


def test_a_successful_sign_in_clears_the_count(client, alice):
    _fail(client, "alice", 4)
    assert _sign_in(client, "alice", "pass-alice").status_code == 302
    client.logout()

    responses = _fail(client, "alice", 4)

    assert [r.status_code for r in responses] == [200] * 4


def test_the_admin_login_is_throttled_too(client, erin):
    admin_login = reverse("admin:login")
    for _ in range(5):
        response = client.post(
            admin_login, {"username": "erin", "password": "nope"}, REMOTE_ADDR=DESK
        )

    assert response.status_code == 429


def test_the_limit_comes_from_the_environment(monkeypatch):
    import importlib

    import servicedesk.settings as base

    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "3")
    monkeypatch.setenv("LOGIN_LOCKOUT_MINUTES", "30")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.AXES_FAILURE_LIMIT == 3
        assert reloaded.AXES_COOLOFF_TIME == timedelta(minutes=30)
    finally:
        monkeypatch.undo()
        importlib.reload(base)


def test_api_tokens_are_not_counted_and_work_from_a_locked_out_desk(client, alice, api_client):
    tickets = reverse("api_v1:tickets")
    for _ in range(10):
        refused = client.get(tickets, HTTP_AUTHORIZATION="Token wrong", REMOTE_ADDR=DESK)
        assert refused.status_code == 401
    _fail(client, "alice", 5)

    response = client.get(tickets, REMOTE_ADDR=DESK, **api_client.headers)

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "desk"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no proxy: the header is the client's own say-so
        (1, "6.6.6.6, 10.1.1.21", "10.1.1.21"),  # the proxy appended the desk's address
        (2, "6.6.6.6, 10.1.1.21, 10.0.0.9", "10.1.1.21"),
        (2, "10.1.1.21", "10.0.0.1"),  # fewer entries than proxies: misconfigured, not believed
    ],
)
def test_the_desk_address_behind_proxies_is_the_one_they_appended(
    settings, proxies, forwarded_for, desk
):
    from django.test import RequestFactory

    from accounts.backends import client_address

    settings.PROXY_COUNT = proxies
    request = RequestFactory().post(
        LOGIN, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for
    )

    assert client_address(request) == desk
