"""Nothing is open without authentication; tokens carry scopes; browsers use the session."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.test import Client

from api.models import ApiClient, Scope, token_hash
from api.services import api_client_revoke, api_client_rotate_token
from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"
EVERY_ENDPOINT = [
    ("get", TICKETS),
    ("post", TICKETS),
    ("get", "/api/v1/tickets/202611270000000001/"),
    *[
        ("post", f"/api/v1/tickets/202611270000000001/{action}/")
        for action in (
            "dispatch",
            "acknowledge",
            "arrive",
            "resolve",
            "reply",
            "visit",
            "archive",
            "cancel",
        )
    ],
    ("post", "/api/v1/calls/"),
    ("get", "/api/v1/sla/breaches/"),
    ("get", "/api/v1/metrics/"),
    ("get", "/api/schema/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), EVERY_ENDPOINT)
def test_every_endpoint_answers_401_without_credentials(method, path):
    response = getattr(Client(), method)(path, content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_the_docs_send_a_browser_that_is_not_signed_in_to_the_login_page():
    response = Client().get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"


def test_the_docs_and_the_schema_open_for_a_signed_in_person(browser_of, alice):
    browser = browser_of(alice)
    docs = browser.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files, never from a CDN.
    assert (
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
        in docs.content.decode()
    )
    # Nothing loaded from another host (the page also carries a random CSRF token, so a
    # plain search for "cdn" would fail now and then).
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", docs.content.decode())
    assert "cdn.jsdelivr" not in docs.content.decode() and "unpkg.com" not in docs.content.decode()
    assert browser.get("/api/schema/").status_code == 200


def test_the_schema_opens_for_a_token(ivr):
    response = ivr.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "/api/v1/tickets/" in response.json()["paths"]


@pytest.mark.parametrize(
    "header", ["Token nope", "Token", "Token a b", "Token " + "x" * 300, "Bearer abc"]
)
def test_a_bad_or_foreign_authorization_header_is_refused(api_client, header):
    response = Client().get(TICKETS, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["code"] in {"authentication_failed", "not_authenticated"}


def test_a_revoked_token_stops_working_at_once_and_a_new_one_works(ivr, api_client):
    assert ivr.get(TICKETS).status_code == 200
    api_client_revoke(client=api_client.client)
    refused = ivr.get(TICKETS)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "无效或已吊销的令牌。"

    token = api_client_rotate_token(client=api_client.client)
    assert Client().get(TICKETS, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_a_client_without_the_scope_is_refused_with_403_and_stores_nothing(wechat_hall):
    response = wechat_hall.post(
        "/api/v1/calls/", {"call_id": "c-1", "event": "ring", "at": "2026-11-27T08:00:00+08:00"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "detail": "您没有此请求所需的权限“推送话务系统的通话事件”。",
        "code": "permission_denied",
    }


def test_the_wechat_hall_may_create_and_read_but_not_act(wechat_hall, urban_customer):
    created = wechat_hall.create(channel="wechat")
    assert created.status_code == 201
    number = created.json()["number"]
    assert wechat_hall.get(f"{TICKETS}{number}/").status_code == 200
    assert wechat_hall.post(f"{TICKETS}{number}/cancel/", {"reason": "试试"}).status_code == 403
    assert Ticket.objects.get(number=number).status == "accepted"


def test_only_the_hash_of_a_token_is_stored(api_client):
    row = ApiClient.objects.get(pk=api_client.client.pk)
    assert api_client.token not in (row.token_hash, row.token_prefix)
    assert row.token_hash == token_hash(api_client.token)
    assert api_client.token.startswith(row.token_prefix)


def test_the_command_prints_a_working_token_with_the_scopes_asked_for(db, capsys):
    call_command("create_api_client", "CTI switch", "--scopes", "calls:push,tickets:read")
    out, err = capsys.readouterr()
    token = out.strip()
    client = ApiClient.objects.get(name="CTI switch")
    assert client.scopes == [Scope.TICKETS_READ, Scope.CALLS_PUSH]
    assert client.token_hash == token_hash(token)
    assert "shown only now" in err
    switch = Client(HTTP_AUTHORIZATION=f"Token {token}")
    assert switch.get(TICKETS).status_code == 200
    assert switch.post(TICKETS, {}, content_type="application/json").status_code == 403


def test_the_command_refuses_unknown_scopes_and_duplicate_names(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="tickets:delete"):
        call_command("create_api_client", "IVR", "--scopes", "tickets:delete")
    call_command("create_api_client", "IVR", "--scopes", "all")
    with pytest.raises(CommandError):
        call_command("create_api_client", "IVR", "--scopes", "all")


def test_the_command_rotates_and_revokes(db, capsys):
    call_command("create_api_client", "App hall", "--scopes", "tickets:create")
    old = capsys.readouterr().out.strip()
    call_command("create_api_client", "App hall", "--rotate")
    new = capsys.readouterr().out.strip()
    assert Client(HTTP_AUTHORIZATION=f"Token {old}").get(TICKETS).status_code == 401
    call_command("revoke_api_client", "App hall")
    assert (
        Client(HTTP_AUTHORIZATION=f"Token {new}")
        .post(TICKETS, {}, content_type="application/json")
        .status_code
        == 401
    )


def test_the_admin_shows_a_new_token_once_and_revokes_it(erin):
    admin = Client()
    admin.force_login(erin)
    response = admin.post(
        "/admin/api/apiclient/add/",
        {"name": "Web hall", "scopes": ["tickets:create", "tickets:read"], "note": ""},
        follow=True,
    )
    assert response.status_code == 200
    client = ApiClient.objects.get(name="Web hall")
    assert client.scopes == ["tickets:create", "tickets:read"]
    message = next(str(m) for m in response.context["messages"])
    token = message.split("<code style='user-select:all'>")[1].split("</code>")[0]
    assert client.token_hash == token_hash(token)
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(TICKETS).status_code == 200

    admin.post("/admin/api/apiclient/", {"action": "revoke", "_selected_action": [client.pk]})
    assert Client(HTTP_AUTHORIZATION=f"Token {token}").get(TICKETS).status_code == 401


def test_a_browser_session_needs_the_csrf_token_to_write(browser_of, alice, urban_customer):
    browser = browser_of(alice, csrf=True)
    refused = browser.create()
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Ticket.objects.exists()

    # The docs page's start-up script sets the CSRF cookie; Swagger UI sends it back as
    # X-CSRFToken.
    assert browser.get("/api/docs/").status_code == 200
    assert browser.get("/api/docs/?script=").status_code == 200
    token = browser.client.cookies["csrftoken"].value
    created = browser.create(headers={"HTTP_X_CSRFTOKEN": token})
    assert created.status_code == 201
    ticket = Ticket.objects.get(number=created.json()["number"])
    assert ticket.owner == alice  # first-contact responsibility: the signed-in agent owns it


def test_a_crew_member_in_the_browser_may_read_but_not_create(browser_of, bob):
    browser = browser_of(bob)
    assert browser.get(TICKETS).status_code == 200
    assert browser.create().status_code == 403


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/json; q=0.9"])
def test_an_order_list_is_json_whatever_json_compatible_accept_the_client_sends(ivr, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = ivr.get(TICKETS, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["results"] == []


def test_a_client_that_accepts_no_json_gets_406_in_json(ivr):
    response = ivr.get(TICKETS, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_acceptable"


def test_a_format_the_api_does_not_speak_is_404(ivr):
    assert ivr.get(TICKETS, {"format": "xml"}).status_code == 404
    assert ivr.get(TICKETS, {"format": "json"}).status_code == 200
