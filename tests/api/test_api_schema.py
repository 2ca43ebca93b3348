"""The contract is generated from the code and checked in: an accidental change fails here.

After an intended change (a new optional field, a new endpoint — extend, don't rename):
    python manage.py spectacular --lang en --file tests/api/openapi-snapshot.yaml
and commit the snapshot with the change, so the diff shows what clients will see.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer

SNAPSHOT = Path(__file__).with_name("openapi-snapshot.yaml")
V1 = "/api/v1"
ACTIONS = (
    "dispatch",
    "acknowledge",
    "arrive",
    "resolve",
    "reply",
    "visit",
    "archive",
    "cancel",
    # SPEC section 3: after dispatch, the unit and the centre's check (issue 15).
    "redispatch",
    "contact",
    "handback",
    "accept_check",
    "return_check",
    "terminate",
)


def live_schema() -> str:
    with translation.override("en"):
        schema = SchemaGenerator().get_schema(request=None, public=True)
        return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()


def test_the_published_contract_matches_the_committed_snapshot():
    assert live_schema() == SNAPSHOT.read_text(encoding="utf-8"), (
        "The API contract changed. If that is intended, regenerate the snapshot: "
        "python manage.py spectacular --lang en --file tests/api/openapi-snapshot.yaml"
    )


def test_every_endpoint_of_the_spec_is_in_the_contract():
    paths = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))["paths"]
    assert set(paths) == {
        f"{V1}/tickets/",
        f"{V1}/tickets/{{number}}/",
        f"{V1}/calls/",
        f"{V1}/sla/breaches/",
        f"{V1}/metrics/",
        *[f"{V1}/tickets/{{number}}/{action}/" for action in ACTIONS],
    }
    assert set(paths[f"{V1}/tickets/"]) == {"get", "post"}


def test_the_create_call_documents_its_examples_and_every_error_shape():
    schema = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    create = schema["paths"][f"{V1}/tickets/"]["post"]
    assert "RepairFromTheIVR" in create["requestBody"]["content"]["application/json"]["examples"]
    responses = create["responses"]
    assert set(responses) == {"201", "400", "401", "403", "409"}
    assert responses["201"]["content"]["application/json"]["examples"]["OrderTaken"]["value"][
        "deadlines"
    ]
    for status in ("400", "401", "403", "409"):
        assert responses[status]["content"]["application/json"]["examples"], status
    assert responses["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert {p["name"] for p in create["parameters"]} == {"Idempotency-Key"}
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schema["components"]["securitySchemes"]["tokenAuth"]["description"],
    }


def test_every_action_answers_409_when_the_state_does_not_allow_it():
    paths = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))["paths"]
    for action in ACTIONS:
        responses = paths[f"{V1}/tickets/{{number}}/{action}/"]["post"]["responses"]
        assert set(responses) == {"200", "400", "401", "403", "404", "409"}, action
