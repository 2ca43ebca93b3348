"""POST /api/v1/tickets/{number}/{action}/: every action of the life cycle, on the server's
clock; an action the state does not allow answers 409 and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"
NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def act(api, number: str, action: str, body: dict | None = None, status: int = 200):
    response = api.post(f"{TICKETS}{number}/{action}/", body or {})
    assert response.status_code == status, response.json()
    return response.json()


@pytest.fixture
def repair(ivr, urban_customer, bob) -> str:
    return ivr.create(customer_account="3100000001").json()["number"]


def test_a_repair_goes_through_its_whole_life_over_the_api(ivr, repair):
    with time_machine.travel(NOW, tick=False):
        dispatched = act(ivr, repair, "dispatch")
    assert (dispatched["status"], dispatched["handling_unit"]) == ("dispatched", "crew-urban")
    assert dispatched["dispatched_at"] == "2026-11-27T10:00:00+08:00"
    assert dispatched["deadlines"] == {"arrival": "2026-11-27T10:40:00+08:00"}
    assert act(ivr, repair, "acknowledge", {"note": "马上出发"})["status"] == "acknowledged"
    assert act(ivr, repair, "arrive")["status"] == "on_site"
    resolved = act(ivr, repair, "resolve", {"cause": "保险丝熔断", "work_done": "更换保险丝"})
    assert resolved["status"] == "resolved"
    assert act(ivr, repair, "visit", {"satisfaction": "very_satisfied"})["status"] == "visited"
    archived = act(ivr, repair, "archive")
    assert archived["status"] == "archived"
    assert archived["allowed_actions"] == []
    assert [e["action"] for e in archived["timeline"] if e["kind"] == "status"] == [
        "dispatch",
        "acknowledge",
        "arrive",
        "resolve",
        "visit",
        "archive",
    ]
    assert {e["actor"] for e in archived["timeline"]} >= {"IVR"}
    ticket = Ticket.objects.get(number=repair)
    assert (ticket.cause, ticket.work_done, ticket.satisfaction) == (
        "保险丝熔断",
        "更换保险丝",
        "very_satisfied",
    )


def test_a_complaint_is_answered_with_a_written_reply(ivr, carol):
    number = ivr.create(category="complaint", party="城区抢修一班", description="态度差").json()[
        "number"
    ]
    act(ivr, number, "dispatch")
    assert act(ivr, number, "reply", {"reply": ""}, status=400) is not None
    replied = act(ivr, number, "reply", {"reply": "已向客户致歉"})
    assert (replied["status"], replied["reply"]) == ("resolved", "已向客户致歉")
    assert "reply" not in replied["deadlines"]


def test_an_inquiry_is_resolved_at_once_and_archived(ivr):
    number = ivr.create(category="inquiry", description="电费怎么交").json()["number"]
    assert act(ivr, number, "resolve", {"reply": "可通过网上国网缴费"})["status"] == "resolved"
    assert act(ivr, number, "archive")["status"] == "archived"


def test_a_dissatisfied_return_visit_reopens_the_order(ivr, repair):
    for action in ("dispatch", "arrive", "resolve"):
        act(ivr, repair, action)
    reopened = act(ivr, repair, "visit", {"satisfaction": "dissatisfied", "note": "还是没电"})
    assert reopened["status"] == "dispatched"
    assert Ticket.objects.get(number=repair).reopen_count == 1


def test_cancelling_needs_a_reason(ivr, repair):
    refused = act(ivr, repair, "cancel", {}, status=400)
    assert list(refused["errors"]) == ["reason"]
    cancelled = act(ivr, repair, "cancel", {"reason": "客户已自行恢复"})
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "客户已自行恢复")
    assert cancelled["deadlines"] == {}


def test_an_action_the_state_does_not_allow_answers_409_and_changes_nothing(ivr, repair):
    before = Ticket.objects.get(number=repair)
    events = before.events.count()
    response = ivr.post(f"{TICKETS}{repair}/archive/", {})
    assert response.status_code == 409
    assert response.json()["code"] == "not_allowed"
    assert response.json()["detail"].startswith("状态为“")
    assert response.json()["detail"].endswith("的故障报修工单不能执行“归档”。")
    after = Ticket.objects.get(number=repair)
    assert (after.status, after.updated_at, after.events.count()) == (
        before.status,
        before.updated_at,
        events,
    )


def test_a_reply_to_a_repair_is_not_allowed(ivr, repair):
    act(ivr, repair, "dispatch")
    assert act(ivr, repair, "reply", {"reply": "好的"}, status=409)["code"] == "not_allowed"


def test_dispatch_to_a_named_unit_and_to_an_unknown_one(ivr, repair, service_department):
    refused = act(ivr, repair, "dispatch", {"handling_unit": "crew-nowhere"}, status=400)
    assert refused["errors"] == {"handling_unit": ["没有使用此代码的在用处理单位。"]}
    assert (
        act(ivr, repair, "dispatch", {"handling_unit": "dept-service"})["handling_unit"]
        == "dept-service"
    )


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("visit", {"satisfaction": "ecstatic"}, "satisfaction"),
        ("visit", {}, "satisfaction"),
        ("resolve", {"power_restored": "yes"}, "power_restored"),
        ("cancel", {"reason": "原" * 201}, "reason"),
        ("acknowledge", {"note": 42}, "note"),
        ("dispatch", {"handling_unit": ["crew-urban"]}, "handling_unit"),
    ],
)
def test_bad_action_input_answers_400_on_the_field(ivr, repair, action, body, field):
    response = ivr.post(f"{TICKETS}{repair}/{action}/", body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_the_time_of_an_action_is_the_server_clock(ivr, repair):
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        act(
            ivr,
            repair,
            "dispatch",
            {"at": "2020-01-01T00:00:00+08:00", "dispatched_at": "2020-01-01"},
        )
    assert Ticket.objects.get(number=repair).dispatched_at == NOW + timedelta(minutes=2)


def test_an_action_on_an_unknown_order_answers_404(ivr):
    assert ivr.post(f"{TICKETS}202611270000009999/cancel/", {"reason": "x"}).status_code == 404
    assert ivr.post(f"{TICKETS}202611270000009999/fly/", {}).status_code == 404


def test_a_crew_member_in_the_browser_acts_only_as_the_role_allows(browser_of, ivr, repair, bob):
    act(ivr, repair, "dispatch")
    crew = browser_of(bob)
    assert act(crew, repair, "acknowledge")["handler"] == "bob"
    refused = act(crew, repair, "cancel", {"reason": "不想去"}, status=403)
    assert refused["detail"] == "您的角色不能对此工单执行此操作。"
    # The state is checked first: archiving an open order is a 409 for everyone.
    assert act(crew, repair, "archive", status=409)["code"] == "not_allowed"
    assert Ticket.objects.get(number=repair).status == "acknowledged"
