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
    handed_back = act(ivr, repair, "resolve", {"cause": "保险丝熔断", "work_done": "更换保险丝"})
    # The crew's result waits for the centre's check (回单审核).
    assert handed_back["status"] == "handed_back"
    assert act(ivr, repair, "accept_check")["status"] == "resolved"
    assert act(ivr, repair, "visit", {"satisfaction": "very_satisfied"})["status"] == "visited"
    archived = act(ivr, repair, "archive")
    assert archived["status"] == "archived"
    assert archived["allowed_actions"] == []
    assert [e["action"] for e in archived["timeline"] if e["kind"] == "status"] == [
        "dispatch",
        "acknowledge",
        "arrive",
        "resolve",
        "accept_check",
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
    assert (replied["status"], replied["reply"]) == ("handed_back", "已向客户致歉")
    assert "reply" not in replied["deadlines"]
    assert act(ivr, number, "accept_check")["status"] == "resolved"


def test_an_inquiry_is_resolved_at_once_and_archived(ivr):
    number = ivr.create(category="inquiry", description="电费怎么交").json()["number"]
    assert act(ivr, number, "resolve", {"reply": "可通过网上国网缴费"})["status"] == "resolved"
    assert act(ivr, number, "archive")["status"] == "archived"


def test_a_dissatisfied_return_visit_reopens_the_order(ivr, repair):
    for action in ("dispatch", "arrive", "resolve", "accept_check"):
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
        ("redispatch", {"reason": "不属本班组"}, "handling_unit"),
        ("redispatch", {"handling_unit": "crew-nowhere", "reason": "x"}, "handling_unit"),
        ("redispatch", {"handling_unit": "crew-urban"}, "reason"),
        ("return_check", {}, "reason"),
        ("return_check", {"reason": ""}, "reason"),
        ("terminate", {"reason": "  "}, "reason"),
        ("terminate", {}, "reason"),
        ("contact", {"note": ["x"]}, "note"),
        ("handback", {"power_restored": "yes"}, "power_restored"),
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


# --- After dispatch: contact, re-dispatch, hand back, the centre's check, termination ------


def test_the_centre_returns_a_handed_back_repair_and_then_accepts_it(ivr, repair):
    for action in ("dispatch", "acknowledge", "contact", "arrive"):
        act(ivr, repair, action)
    handed_back = act(ivr, repair, "handback", {"cause": "保险丝熔断"})
    assert handed_back["status"] == "handed_back"
    assert set(handed_back["allowed_actions"]) >= {"accept_check", "return_check", "terminate"}
    assert handed_back["contacted_at"] is not None and handed_back["handed_back_at"] is not None

    assert act(ivr, repair, "accept_check", {"note": "回单合格"})["status"] == "resolved"


def test_a_return_sends_the_order_back_to_the_crew_on_site_and_counts(ivr, repair):
    for action in ("dispatch", "arrive", "handback"):
        act(ivr, repair, action)
    returned = act(ivr, repair, "return_check", {"reason": "未写明故障原因"})
    assert (returned["status"], returned["return_count"]) == ("on_site", 1)
    line = returned["timeline"][-1]
    assert (line["action"], line["note"]) == ("return_check", "未写明故障原因")
    again = act(ivr, repair, "handback", {"cause": "进户线老化"})
    assert again["status"] == "handed_back"
    assert act(ivr, repair, "accept_check")["status"] == "resolved"
    assert Ticket.objects.get(number=repair).return_count == 1


def test_a_complaint_handed_back_needs_its_reply(ivr, carol):
    number = ivr.create(category="complaint", party="营业厅", description="排队太久").json()[
        "number"
    ]
    act(ivr, number, "dispatch")
    refused = act(ivr, number, "handback", {}, status=400)
    assert list(refused["errors"]) == ["reply"]
    assert act(ivr, number, "handback", {"reply": "已致歉并改进"})["status"] == "handed_back"
    # Returned to a department that never pressed "acknowledge": back to dispatched.
    assert act(ivr, number, "return_check", {"reason": "答复不完整"})["status"] == "dispatched"
    # Its reply is on the order: handing back again needs no new one.
    assert act(ivr, number, "handback")["status"] == "handed_back"


def test_terminating_closes_the_order_with_its_reason_and_stops_every_clock(ivr, repair):
    act(ivr, repair, "dispatch")
    terminated = act(ivr, repair, "terminate", {"reason": "非供电企业产权设备"})
    assert (terminated["status"], terminated["termination_reason"]) == (
        "terminated",
        "非供电企业产权设备",
    )
    assert terminated["deadlines"] == {}
    assert terminated["resolved_at"] is None and terminated["closed_at"] is not None
    assert act(ivr, repair, "accept_check", status=409)["code"] == "not_allowed"


def test_redispatch_moves_the_order_and_keeps_its_deadline(ivr, repair, rural_crew):
    with time_machine.travel(NOW, tick=False):
        dispatched = act(ivr, repair, "dispatch")
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        moved = act(
            ivr, repair, "redispatch", {"handling_unit": "crew-rural", "reason": "属城郊辖区"}
        )
    assert (moved["status"], moved["handling_unit"]) == ("dispatched", "crew-rural")
    assert moved["deadlines"] == dispatched["deadlines"]
    assert moved["dispatched_at"] == dispatched["dispatched_at"]
    refused = act(
        ivr, repair, "redispatch", {"handling_unit": "crew-rural", "reason": "再转"}, status=400
    )
    assert list(refused["errors"]) == ["handling_unit"]


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("contact", {}),
        ("handback", {}),
        ("accept_check", {}),
        ("return_check", {"reason": "x"}),
        ("redispatch", {"handling_unit": "crew-rural", "reason": "x"}),
    ],
)
def test_the_new_actions_answer_409_from_a_state_that_does_not_allow_them(
    ivr, repair, rural_crew, action, body
):
    # A repair just taken: not with a unit, nothing handed back.
    events = Ticket.objects.get(number=repair).events.count()
    assert act(ivr, repair, action, body, status=409)["code"] == "not_allowed"
    after = Ticket.objects.get(number=repair)
    assert (after.status, after.events.count()) == ("accepted", events)


def test_in_the_browser_the_check_is_the_owning_agents_and_handback_the_crews(
    browser_of, alice, bob, dave, urban_customer
):
    agent, crew, supervisor = browser_of(alice), browser_of(bob), browser_of(dave)
    number = agent.create(customer_account="3100000001").json()["number"]
    act(agent, number, "dispatch", status=403)
    act(supervisor, number, "dispatch")
    act(crew, number, "contact")
    act(crew, number, "arrive")
    act(agent, number, "handback", status=403)
    act(crew, number, "handback", {"cause": "跌落保险熔断"})
    # The crew may not check its own result; the owning agent may.
    act(crew, number, "accept_check", status=403)
    act(crew, number, "return_check", {"reason": "x"}, status=403)
    assert act(agent, number, "return_check", {"reason": "未写恢复时间"})["status"] == "on_site"
    act(crew, number, "handback", {"work_done": "更换熔丝"})
    assert act(agent, number, "accept_check")["status"] == "resolved"


def test_another_agent_may_not_check_an_order_it_did_not_take(browser_of, alice, ivr, repair, bob):
    other = browser_of(_agent("frank"))
    for action in ("dispatch", "arrive", "handback"):
        act(ivr, repair, action)
    assert (
        act(other, repair, "accept_check", status=403)["detail"]
        == "您的角色不能对此工单执行此操作。"
    )
    assert act(other, repair, "terminate", {"reason": "x"}, status=403)
    assert Ticket.objects.get(number=repair).status == "handed_back"


def _agent(username: str):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username=username, password="pass-" + username)
    user.groups.add(Group.objects.get(name="agent"))
    return user
