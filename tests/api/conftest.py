"""Helpers for the API tests: JSON requests as the IVR (token) or as a signed-in person."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client
from order_cast import take_order

from api.models import Scope
from api.services import api_client_create
from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"


class Api:
    """Django's test client speaking JSON with fixed headers (a token, a language …)."""

    def __init__(self, client: Client, **headers: str) -> None:
        self.client = client
        self.headers = headers

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: str):
        return self.client.get(path, params or {}, **{**self.headers, **headers})

    def post(self, path: str, data: Any = None, *, raw: str | bytes | None = None, **headers: str):
        # ASCII escapes, so a lone surrogate travels as "\ud800" the way a buggy client sends it.
        body = raw if raw is not None else json.dumps({} if data is None else data)
        return self.client.post(
            path, body, content_type="application/json", **{**self.headers, **headers}
        )

    def create(self, *, headers: dict[str, str] | None = None, **fields: Any):
        """POST a new order (a repair from a known caller unless told otherwise)."""
        data = {
            "category": "repair",
            "caller_phone": "13800000001",
            "description": "家里没电了",
            **fields,
        }
        return self.post(TICKETS, data, **(headers or {}))


@pytest.fixture
def ivr(api_client) -> Api:
    """The IVR with every scope."""
    return Api(Client(), HTTP_AUTHORIZATION=f"Token {api_client.token}")


@pytest.fixture
def make_client(db):
    """`make_client(name, *scopes)`: another integration client, as an Api."""

    def make(name: str, *scopes: str) -> Api:
        _client, token = api_client_create(name=name, scopes=list(scopes))
        return Api(Client(), HTTP_AUTHORIZATION=f"Token {token}")

    return make


@pytest.fixture
def wechat_hall(make_client) -> Api:
    """The WeChat service hall: may create and read orders, nothing else."""
    return make_client("WeChat hall", Scope.TICKETS_CREATE, Scope.TICKETS_READ)


@pytest.fixture
def browser_of(db):
    """`browser_of(user, csrf=False)`: a signed-in browser session of a cast member (with
    `csrf=True`, Django checks the CSRF token as it does for a real browser)."""

    def signed_in(user, *, csrf: bool = False) -> Api:
        client = Client(enforce_csrf_checks=csrf)
        client.force_login(user)
        return Api(client)

    return signed_in


@pytest.fixture
def take_at(alice_actor):
    """`take_at(at, **fields)`: an order that agent Alice takes at that instant (a repair
    from a known caller unless told otherwise)."""

    def take(at: datetime, **fields: Any) -> Ticket:
        with time_machine.travel(at, tick=False):
            return take_order(
                **{
                    "category": "repair",
                    "caller_phone": "13800000001",
                    "description": "没电",
                    "actor": alice_actor,
                    **fields,
                }
            )

    return take
