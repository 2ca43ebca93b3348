"""Schema-driven fuzzing of the whole API (schemathesis): valid and invalid requests generated
from the committed OpenAPI document, sent in-process to the real Django app on the test
database. No answer may be a 5xx, every answer must match the documented status codes,
content type and body schema, and requests that break the schema must be refused.

Bounded: a fixed number of examples per operation, derandomized, so the run is repeatable and
takes well under a minute.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from order_cast import take_order
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

SNAPSHOT = Path(__file__).with_name("openapi-snapshot.yaml")
MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

schema = schemathesis.openapi.from_path(SNAPSHOT)
app = WSGIHandler()


@pytest.fixture
def keep_the_test_connection():
    """Django closes the database connection when a request finishes; the test client stops
    that, and so must we, or the test's transaction would be gone after the first request."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(
    keep_the_test_connection, api_client, alice_actor, urban_customer, rural_customer, bob, carol
):
    """Orders in several states, so list and detail answers have something to show."""
    for category, extra in [
        ("repair", {"customer": urban_customer, "dispatch": True}),
        ("repair", {"customer": rural_customer}),
        ("complaint", {"party": "供电所", "dispatch": True}),
        ("inquiry", {"answer_on_call": True, "reply": "已答复"}),
    ]:
        take_order(
            category=category,
            caller_phone="13800000001",
            description="测试",
            **extra,
            actor=alice_actor,
        )
    return {"Authorization": f"Token {api_client.token}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error_or_an_answer_outside_the_contract(case, world):
    case.call_and_validate(app=app, headers=world, checks=CHECKS)
