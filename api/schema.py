"""What the OpenAPI document says beyond what the code already tells drf-spectacular:
the token scheme, the Idempotency-Key header, the error shapes and the examples.

The document is written in English (msgids); the committed snapshot
(tests/api/openapi-snapshot.yaml) is generated in English so a translation edit is not a
contract change.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse

from api.serializers import METRICS_SCHEMA, ErrorSerializer, ValidationErrorSerializer


class ClientTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ClientTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`. Keys are issued by an administrator (admin, or "
            "`python manage.py create_api_client NAME --scopes …`) and carry scopes: "
            "tickets:create, tickets:read, tickets:act, calls:push, reports:read, "
            "personal:read (phone numbers in full; without it they read masked, 138****5678).",
        }


IDEMPOTENCY_KEY = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Optional, per client: a repeat with the same key and body returns the first answer "
    "(same status and body, header `Idempotent-Replayed: true`); the same key with another "
    "body answers 409. Only successful answers are kept: after an error the key is free. "
    "1–255 printable ASCII characters without spaces; a UUID is ideal.",
    pattern=r"^[\x21-\x7e]{1,255}$",
)

_ERROR_EXAMPLES: dict[int, list[OpenApiExample]] = {
    400: [
        OpenApiExample(
            "Invalid fields (Chinese, the default)",
            value={
                "detail": "请修改标出的字段。",
                "code": "invalid",
                "errors": {
                    "caller_phone": ["手机号码为11位数字，以13–19开头。"],
                    "customer_account": ["没有客户使用此户号。"],
                },
            },
            response_only=True,
            status_codes=["400"],
        ),
        OpenApiExample(
            "Invalid fields (Accept-Language: en)",
            value={
                "detail": "Please correct the marked fields.",
                "code": "invalid",
                "errors": {"category": ['"gas" is not a valid choice.']},
            },
            response_only=True,
            status_codes=["400"],
        ),
        OpenApiExample(
            "Malformed JSON",
            value={
                "detail": "JSON parse error - Expecting value: line 1 column 1 (char 0)",
                "code": "parse_error",
                "errors": {
                    "non_field_errors": [
                        "JSON parse error - Expecting value: line 1 column 1 (char 0)"
                    ]
                },
            },
            response_only=True,
            status_codes=["400"],
        ),
    ],
    401: [
        OpenApiExample(
            "No or bad token",
            value={"detail": "Invalid or revoked token.", "code": "authentication_failed"},
            response_only=True,
            status_codes=["401"],
        )
    ],
    403: [
        OpenApiExample(
            "Missing scope",
            value={
                "detail": "You lack the permission “Create work orders” for this request.",
                "code": "permission_denied",
            },
            response_only=True,
            status_codes=["403"],
        )
    ],
    404: [
        OpenApiExample(
            "Unknown order",
            value={"detail": "Not found.", "code": "not_found"},
            response_only=True,
            status_codes=["404"],
        )
    ],
    409: [
        OpenApiExample(
            "Action not allowed in the current state",
            value={
                "detail": "“Archive” is not allowed for a Fault repair order that is Accepted.",
                "code": "not_allowed",
            },
            response_only=True,
            status_codes=["409"],
        ),
        OpenApiExample(
            "Idempotency-Key reused with another body",
            value={
                "detail": "This Idempotency-Key was already used with another request.",
                "code": "idempotency_key_reused",
            },
            response_only=True,
            status_codes=["409"],
        ),
    ],
}

_ERROR_DESCRIPTIONS = {
    400: "Bad input: one list of messages per field (Chinese by default, English with Accept-Language: en).",
    401: "No credentials, or a token that is unknown or revoked.",
    403: "Authenticated, but the token's scopes (or the person's role) do not allow this.",
    404: "No such order, or not visible to you.",
    409: "Not allowed in the order's current state, or an Idempotency-Key reused with another body.",
}


def errors(*codes: int, body: bool = True) -> dict[int, OpenApiResponse]:
    """Response entries for the given error statuses, each with the shared shape and examples.

    `body=False` for GETs: their 400 comes from the query string, never from malformed JSON.
    """

    def examples(code: int) -> list[OpenApiExample]:
        if code == 400 and not body:
            return [
                example for example in _ERROR_EXAMPLES[code] if example.name != "Malformed JSON"
            ]
        return _ERROR_EXAMPLES[code]

    return {
        code: OpenApiResponse(
            response=ValidationErrorSerializer if code == 400 else ErrorSerializer,
            description=_ERROR_DESCRIPTIONS[code],
            examples=examples(code),
        )
        for code in codes
    }


CREATE_DESCRIPTION = (
    "Takes a new work order, timed by the server's clock. `deadlines` lists the timers running "
    "now (timer name → due time). With an `Idempotency-Key`, retrying after a timeout never "
    "creates a second order. `customer_account`, `subtype`, `detail` and `call_id` must name "
    "existing rows (400 on the field otherwise). A complaint or report needs `party`. A repair "
    "from a customer whose area, feeder or transformer area an active outage covers is linked "
    "to that outage (status `merged`, no crew of its own is sent): `outage` gives its number "
    "and expected restoration, to tell the caller; otherwise `outage` is null."
)

CREATE_EXAMPLES = [
    OpenApiExample(
        "Repair from the IVR",
        value={
            "category": "repair",
            "caller_phone": "13800000001",
            "description": "家里停电了，邻居家有电",
            "customer_account": "3100000001",
            "channel": "ivr",
            "subtype": "repair-lv",
            "area_type": "urban",
            "call_id": "CTI-20261127-000123",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Complaint from the WeChat hall",
        value={
            "category": "complaint",
            "caller_phone": "010-88880000",
            "channel": "wechat",
            "description": "抢修人员态度恶劣",
            "party": "城区抢修一班",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Order taken",
        value={
            "number": "202611270000001234",
            "category": "repair",
            "status": "accepted",
            "created_at": "2026-11-27T16:03:22.481516+08:00",
            "deadlines": {"dispatch": "2026-11-27T16:06:22.481516+08:00"},
            "to_complete": [],
            "outage": None,
        },
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Repair linked to an active outage",
        value={
            "number": "202611270000001235",
            "category": "repair",
            "status": "merged",
            "created_at": "2026-11-27T16:04:10.102934+08:00",
            "deadlines": {},
            "to_complete": [],
            "outage": {
                "number": "TD20261127000042",
                "expected_restoration_at": "2026-11-27T18:30:00+08:00",
            },
        },
        response_only=True,
        status_codes=["201"],
    ),
]

ACTION_DESCRIPTION = (
    "Takes the action on the order, timed by the server's clock; the answer is the order after it. "
    "An action the order's current state does not allow answers 409 and changes nothing. A person "
    "signed in with the browser may only take the actions their role allows on that order."
)

ACTION_EXAMPLES: dict[str, list[OpenApiExample]] = {
    "dispatch": [
        OpenApiExample(
            "Dispatch to a named unit", value={"handling_unit": "crew-urban"}, request_only=True
        )
    ],
    "acknowledge": [
        OpenApiExample("Acknowledge", value={"note": "已接单，马上出发"}, request_only=True)
    ],
    "arrive": [OpenApiExample("On site", value={}, request_only=True)],
    "resolve": [
        OpenApiExample(
            "Repair done",
            value={"cause": "进户线保险丝熔断", "work_done": "更换保险丝，恢复供电"},
            request_only=True,
        )
    ],
    "reply": [
        OpenApiExample(
            "Reply",
            value={"reply": "经核实，已对相关人员批评教育并向客户致歉。"},
            request_only=True,
        )
    ],
    "visit": [
        OpenApiExample(
            "Return visit",
            value={"satisfaction": "satisfied", "note": "客户表示满意"},
            request_only=True,
        )
    ],
    "archive": [OpenApiExample("Archive", value={}, request_only=True)],
    "cancel": [
        OpenApiExample(
            "Cancel", value={"reason": "客户来电撤销，已自行恢复供电"}, request_only=True
        )
    ],
    "redispatch": [
        OpenApiExample(
            "Re-dispatch to another unit",
            value={"handling_unit": "crew-rural", "reason": "地址属城郊供电所辖区"},
            request_only=True,
        )
    ],
    "contact": [
        OpenApiExample(
            "Customer contacted", value={"note": "已电话联系客户，约定上门"}, request_only=True
        )
    ],
    "handback": [
        OpenApiExample(
            "Hand back a repair",
            value={"cause": "进户线保险丝熔断", "work_done": "更换保险丝，恢复供电"},
            request_only=True,
        ),
        OpenApiExample(
            "Hand back a complaint",
            value={"reply": "经核实，已对相关人员批评教育并向客户致歉。"},
            request_only=True,
        ),
    ],
    "accept_check": [
        OpenApiExample("Accept the result", value={"note": "回单合格"}, request_only=True)
    ],
    "return_check": [
        OpenApiExample("Return to the unit", value={"reason": "未写明故障原因"}, request_only=True)
    ],
    "terminate": [
        OpenApiExample(
            "Terminate the service",
            value={"reason": "客户内部产权设备，不属供电企业服务范围"},
            request_only=True,
        )
    ],
}

CALL_DESCRIPTION = (
    "`ring`, `answer` and `hangup` for one `call_id` may come in any order and more than once: "
    "each fills its own time only if it is still empty, so the call ends up with the right "
    "three times. An unknown call id starts a call record (201); an event for a known call "
    "answers 200. The first `hangup` starts the dispatch clock of the orders taken on the call."
)

CALL_EXAMPLES = [
    OpenApiExample(
        "Ring",
        value={
            "call_id": "CTI-20261127-000123",
            "event": "ring",
            "at": "2026-11-27T16:01:05+08:00",
            "caller_phone": "13800000001",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Answer by an agent",
        value={
            "call_id": "CTI-20261127-000123",
            "event": "answer",
            "at": "2026-11-27T16:01:11+08:00",
            "agent": "alice",
        },
        request_only=True,
    ),
]

METRICS_DESCRIPTION = (
    "The figures of SPEC section 6 over whole Beijing days [start, end]: answer rate, "
    "12-second service level, average speed of answer, abandonment, dispatch average and 95th "
    "percentile, on-site arrival and restoration compliance by area type, reply on-time rates, "
    "first-contact resolution, satisfaction, repairs per 10,000 households, volumes. "
    "Default period: the last 30 days. At most 366 days."
)

METRICS_RESPONSE = OpenApiResponse(response=METRICS_SCHEMA, description="The figures.")
