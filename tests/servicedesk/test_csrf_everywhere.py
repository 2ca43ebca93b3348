"""CSRF on every form and every session write: a signed-in person's POST without the CSRF
token is refused by every URL of the project — the pages, the admin, the language switch,
sign-in and sign-out, and the API when it is reached with the session (DRF's
SessionAuthentication checks the token; integration clients send a token header instead)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

# A made-up value for each path parameter: the CSRF check refuses the POST before the view
# looks the value up.
_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)")


def _urls(patterns=None, prefix: str = ""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _urls(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern):
            yield "/" + _filled(prefix + route), entry


def _filled(route: str) -> str:
    route = _PARAMETER.sub(lambda m: "1" if m.group(1) == "int" else "x", route)
    route = _REGEX_GROUP.sub("x", route)
    return route.lstrip("^").rstrip("$").replace("\\", "")


def _api_view(entry: URLPattern):
    return getattr(entry.callback, "cls", None)


def _session_api(entry: URLPattern) -> bool:
    from rest_framework.authentication import SessionAuthentication

    view = _api_view(entry)
    return any(issubclass(a, SessionAuthentication) for a in view.authentication_classes)


def _every_url():
    return sorted({path: entry for path, entry in _urls()}.items())


def test_the_walk_finds_the_forms_that_matter():
    paths = {path for path, _ in _every_url()}

    assert {"/accounts/login/", "/accounts/logout/", "/i18n/setlang/", "/tickets/intake/"} <= paths
    assert "/api/v1/tickets/" in paths
    assert any(path.startswith("/admin/") for path in paths)


def test_no_view_of_the_project_is_exempt_from_the_csrf_check():
    exempt = [
        path
        for path, entry in _every_url()
        if getattr(entry.callback, "csrf_exempt", False) and _api_view(entry) is None
    ]

    assert exempt == []


def test_a_session_post_without_the_token_is_refused_everywhere(erin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(erin)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    accepted = []
    for path, entry in _every_url():
        if _api_view(entry) is None:
            response = client.post(path, {"anything": "1"})
            refused = response.status_code == 403 and any(
                t.name == "servicedesk/csrf_failure.html" for t in response.templates
            )
        elif _session_api(entry):
            # What a browser's script sends. Refused without the token, and for that reason:
            # the same request with it gets past the check (to 400, 404, 405, …).
            without = client.post(path, "{}", content_type="application/json")
            with_token = client.post(
                path, "{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
            )
            refused = without.status_code == 403 and with_token.status_code != 403
        else:  # token-only API: the session is not a way in at all
            response = client.post(path, "{}", content_type="application/json")
            refused = response.status_code in (401, 403)
        if not refused:
            accepted.append(path)

    assert accepted == []


def test_the_same_post_with_the_token_passes_the_check(erin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(erin)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value

    response = client.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": token})

    assert response.status_code == 302


def test_the_csrf_failure_page_is_the_project_s_own(alice):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)

    response = client.post("/tickets/intake/", {"description": "停电"})

    assert response.status_code == 403
    assert "Reload the page and send it again." in response.content.decode()
