"""After dispatch: re-dispatch (转派), the customer-contacted milestone, the hand-back (回单),
the centre's check (回单审核: accept, or return 退单) and service termination (服务终止).

Each move through its service, with what it does to the clocks, and each refusal changing
nothing. Which moves exist at all is pinned state by state in test_lifecycle.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from order_cast import take_order

from servicedesk.actors import Actor
from servicedesk.errors import DomainError, NotAllowed
from sla.models import SlaRule, Timer
from tickets import services
from tickets.models import Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
SINCE = datetime(2000, 1, 1, tzinfo=UTC)


@pytest.fixture
def crew(bob) -> Actor:
    return Actor(user=bob)


@pytest.fixture
def repair(alice_actor, urban_customer) -> Ticket:
    with time_machine.travel(NOW, tick=False):
        return take_order(
            category="repair",
            caller_phone="13800000001",
            description="家里没电了",
            customer=urban_customer,
            dispatch=True,
            actor=alice_actor,
        )


def _rule(name: str, start: str, stop: str, minutes: int, **conditions) -> SlaRule:
    return SlaRule.objects.create(
        name=name,
        amount=minutes,
        unit="minutes",
        start_event=start,
        stop_event=stop,
        at_risk_share=Decimal("0.80"),
        effective_from=SINCE,
        **conditions,
    )


def _events(ticket: Ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket).count()


# --- Re-dispatch (转派) ------------------------------------------------------------------------


def test_a_redispatch_moves_the_order_and_keeps_its_deadlines_and_first_dispatch(
    repair, crew, rural_crew
):
    arrival = repair.timers.get(name="arrival")
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        services.ticket_acknowledge(ticket=repair, actor=crew)
        moved = services.ticket_redispatch(
            ticket=repair, actor=crew, unit=rural_crew, reason="地址属城郊供电所"
        )

    assert (moved.status, moved.handling_unit, moved.handler) == ("dispatched", rural_crew, None)
    assert moved.dispatched_at == NOW
    # The same clock runs on: not restarted, the same due time, now counted for the new unit.
    timer = Timer.objects.get(ticket=repair, name="arrival", stopped_at__isnull=True)
    assert (timer.pk, timer.due_at) == (arrival.pk, NOW + timedelta(minutes=40))
    assert timer.handling_unit_id == rural_crew.pk
    assert moved.deadlines == {"arrival": "2026-11-27T10:40:00+08:00"}
    assert not Timer.objects.filter(ticket=repair, name="dispatch", stopped_at__isnull=True)
    line = repair.events.latest("id")
    assert (line.action, line.note, line.data["from_unit_name"], line.data["unit_name"]) == (
        "redispatch",
        "地址属城郊供电所",
        "城区抢修一班",
        "城郊供电所抢修班",
    )


def test_the_dispatch_clock_of_an_order_does_not_restart_on_a_redispatch(
    alice_actor, urban_customer, crew, rural_crew
):
    with time_machine.travel(NOW, tick=False):
        order = take_order(
            category="complaint",
            caller_phone="13800000001",
            description="态度差",
            party="营业厅",
            customer=urban_customer,
            actor=alice_actor,
        )
    with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
        services.ticket_dispatch(
            ticket=order, actor=alice_actor, unit=crew.user.handling_units.get()
        )
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        services.ticket_redispatch(ticket=order, actor=crew, unit=rural_crew, reason="转供电所")
    dispatch = Timer.objects.filter(ticket=order, name="dispatch")
    assert [(t.started_at, t.stopped_at) for t in dispatch] == [(NOW, NOW + timedelta(minutes=2))]


@pytest.mark.parametrize(
    ("unit", "reason", "fields"),
    [
        (None, "不属本班组", {"handling_unit"}),
        ("same", "不属本班组", {"handling_unit"}),
        ("inactive", "不属本班组", {"handling_unit"}),
        ("other", "  ", {"reason"}),
        (None, "", {"handling_unit", "reason"}),
    ],
)
def test_a_redispatch_needs_another_active_unit_and_a_reason(
    repair, crew, rural_crew, remote_crew, unit, reason, fields
):
    remote_crew.is_active = False
    remote_crew.save()
    target = {
        None: None,
        "same": repair.handling_unit,
        "inactive": remote_crew,
        "other": rural_crew,
    }[unit]
    events = _events(repair)

    with pytest.raises(DomainError) as refused:
        services.ticket_redispatch(ticket=repair, actor=crew, unit=target, reason=reason)

    assert set(refused.value.field_errors) == fields
    after = Ticket.objects.get(pk=repair.pk)
    assert (after.status, after.handling_unit_id, _events(repair)) == (
        "dispatched",
        repair.handling_unit_id,
        events,
    )


def test_an_order_on_site_is_not_redispatched(repair, crew, rural_crew):
    services.ticket_record_arrival(ticket=repair, actor=crew)
    with pytest.raises(NotAllowed):
        services.ticket_redispatch(ticket=repair, actor=crew, unit=rural_crew, reason="x")


# --- Customer contacted ---------------------------------------------------------------------


def test_contact_is_a_milestone_that_keeps_the_state_and_the_first_time(repair, crew):
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        first = services.ticket_record_contact(ticket=repair, actor=crew, note="已电话联系")
    with time_machine.travel(NOW + timedelta(minutes=9), tick=False):
        again = services.ticket_record_contact(ticket=repair, actor=crew)

    assert (first.status, again.status) == ("dispatched", "dispatched")
    assert again.contacted_at == NOW + timedelta(minutes=5)
    lines = list(repair.events.filter(action="contact").values_list("kind", "data"))
    assert lines == [("milestone", {"first": True}), ("milestone", {"first": False})]


def test_the_contact_clock_is_off_by_default_and_stops_on_contact_once_switched_on(
    repair, crew, alice_actor, urban_customer
):
    assert not Timer.objects.filter(ticket=repair, name="contact").exists()

    _rule("contact", "dispatched", "contacted", 15, category="repair")
    with time_machine.travel(NOW, tick=False):
        order = take_order(
            category="repair",
            caller_phone="13800000001",
            description="又没电了",
            customer=urban_customer,
            dispatch=True,
            actor=alice_actor,
        )
    assert "contact" in order.deadlines
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        contacted = services.ticket_record_contact(ticket=order, actor=crew)

    timer = Timer.objects.get(ticket=order, name="contact")
    assert timer.stopped_at == NOW + timedelta(minutes=6) and timer.breached_at is None
    assert "contact" not in contacted.deadlines


def test_contact_before_dispatch_or_after_the_hand_back_is_refused(
    alice_actor, urban_customer, crew
):
    order = take_order(
        category="repair",
        caller_phone="13800000001",
        description="没电",
        customer=urban_customer,
        actor=alice_actor,
    )
    with pytest.raises(NotAllowed):
        services.ticket_record_contact(ticket=order, actor=crew)
    assert Ticket.objects.get(pk=order.pk).contacted_at is None


# --- Hand back and the centre's check ----------------------------------------------------


def test_a_handed_back_repair_waits_for_the_check_and_is_resolved_when_accepted(
    repair, crew, alice_actor
):
    with time_machine.travel(NOW + timedelta(minutes=30), tick=False):
        services.ticket_record_arrival(ticket=repair, actor=crew)
        handed = services.ticket_handback(ticket=repair, actor=crew, cause="熔断", work_done="更换")
    assert (handed.status, handed.handed_back_at, handed.resolved_at) == (
        Status.HANDED_BACK,
        NOW + timedelta(minutes=30),
        None,
    )
    assert handed.restored_at == NOW + timedelta(minutes=30)
    assert handed.is_open

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        accepted = services.ticket_check_accept(ticket=repair, actor=alice_actor, note="合格")
    assert (accepted.status, accepted.resolved_at) == ("resolved", NOW + timedelta(hours=1))
    line = repair.events.latest("id")
    assert (line.action, line.from_status, line.to_status, line.note) == (
        "accept_check",
        "handed_back",
        "resolved",
        "合格",
    )


def test_the_check_clock_runs_from_the_hand_back_to_the_acceptance(repair, crew, alice_actor):
    # An administrator's rule: the centre checks a handed-back repair within 30 minutes.
    _rule("handling", "handed_back", "checked", 30, category="repair")
    with time_machine.travel(NOW + timedelta(minutes=20), tick=False):
        services.ticket_record_arrival(ticket=repair, actor=crew)
        handed = services.ticket_handback(ticket=repair, actor=crew)
    assert handed.deadlines == {"handling": "2026-11-27T10:50:00+08:00"}
    with time_machine.travel(NOW + timedelta(minutes=40), tick=False):
        accepted = services.ticket_check_accept(ticket=repair, actor=alice_actor)
    timer = Timer.objects.get(ticket=repair, name="handling")
    assert timer.stopped_at == NOW + timedelta(minutes=40) and timer.breached_at is None
    assert accepted.deadlines == {}


def test_a_return_sends_the_result_back_on_site_counted_against_the_crew(repair, crew, alice_actor):
    services.ticket_record_arrival(ticket=repair, actor=crew)
    first = services.ticket_handback(ticket=repair, actor=crew)
    restored = first.restored_at

    returned = services.ticket_check_return(ticket=repair, actor=alice_actor, reason="未写原因")

    assert (returned.status, returned.return_count) == ("on_site", 1)
    line = repair.events.latest("id")
    assert (line.action, line.note, line.data) == (
        "return_check",
        "未写原因",
        {"unit": repair.handling_unit_id, "unit_name": "城区抢修一班", "returns": 1},
    )
    again = services.ticket_handback(ticket=repair, actor=crew, cause="进户线老化")
    assert (again.status, again.restored_at, again.cause) == ("handed_back", restored, "进户线老化")
    services.ticket_check_return(ticket=repair, actor=alice_actor, reason="仍不完整")
    assert Ticket.objects.get(pk=repair.pk).return_count == 2


def test_a_department_that_acknowledged_gets_its_returned_reply_back_acknowledged(
    alice_actor, urban_customer, carol, service_department
):
    department = Actor(user=carol)
    complaint = take_order(
        category="complaint",
        caller_phone="13800000001",
        description="态度差",
        party="营业厅",
        customer=urban_customer,
        dispatch=True,
        handling_unit=service_department,
        actor=alice_actor,
    )
    services.ticket_acknowledge(ticket=complaint, actor=department)
    handed = services.ticket_reply(ticket=complaint, actor=department, reply="已致歉")
    assert handed.status == "handed_back"
    returned = services.ticket_check_return(ticket=complaint, actor=alice_actor, reason="未回访")
    assert (returned.status, returned.handler_id) == ("acknowledged", carol.pk)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_return_needs_a_reason_and_changes_nothing_without_one(repair, crew, alice_actor, reason):
    services.ticket_record_arrival(ticket=repair, actor=crew)
    services.ticket_handback(ticket=repair, actor=crew)
    events = _events(repair)

    with pytest.raises(DomainError) as refused:
        services.ticket_check_return(ticket=repair, actor=alice_actor, reason=reason)

    assert list(refused.value.field_errors) == ["reason"]
    after = Ticket.objects.get(pk=repair.pk)
    assert (after.status, after.return_count, _events(repair)) == ("handed_back", 0, events)


def test_a_complaint_is_handed_back_only_with_its_reply(
    alice_actor, urban_customer, carol, service_department
):
    complaint = take_order(
        category="complaint",
        caller_phone="13800000001",
        description="态度差",
        party="营业厅",
        customer=urban_customer,
        dispatch=True,
        handling_unit=service_department,
        actor=alice_actor,
    )
    with pytest.raises(DomainError) as refused:
        services.ticket_handback(ticket=complaint, actor=Actor(user=carol))
    assert list(refused.value.field_errors) == ["reply"]
    assert Ticket.objects.get(pk=complaint.pk).status == "dispatched"


def test_a_callback_inquiry_and_a_fault_guided_by_phone_skip_the_check(
    alice_actor, urban_customer, service_department
):
    inquiry = take_order(
        category="inquiry",
        caller_phone="13800000001",
        description="电费为何增加",
        reply_form="callback",
        dispatch=True,
        handling_unit=service_department,
        actor=alice_actor,
    )
    assert services.ticket_reply(ticket=inquiry, actor=alice_actor, reply="已回电").status == (
        "resolved"
    )
    guided = take_order(
        category="repair",
        caller_phone="13800000001",
        description="家里跳闸",
        customer=urban_customer,
        inside_customer_installation=True,
        actor=alice_actor,
    )
    assert guided.status == "resolved"


def test_nothing_handed_back_can_be_checked(repair, alice_actor):
    for service, args in (
        (services.ticket_check_accept, {}),
        (services.ticket_check_return, {"reason": "x"}),
    ):
        with pytest.raises(NotAllowed):
            service(ticket=repair, actor=alice_actor, **args)
    assert Ticket.objects.get(pk=repair.pk).status == "dispatched"


# --- Service termination (服务终止) ----------------------------------------------------------


def test_a_claim_outside_the_utilitys_scope_is_terminated_not_resolved(repair, alice_actor):
    with time_machine.travel(NOW + timedelta(minutes=5), tick=False):
        ended = services.ticket_terminate(
            ticket=repair, actor=alice_actor, reason="小区物业自管设备，非供电企业产权"
        )

    assert (ended.status, ended.resolved_at, ended.closed_at) == (
        "terminated",
        None,
        NOW + timedelta(minutes=5),
    )
    assert ended.termination_reason == "小区物业自管设备，非供电企业产权"
    assert ended.deadlines == {}
    assert not Timer.objects.filter(ticket=repair, stopped_at__isnull=True).exists()
    assert not ended.is_open
    with pytest.raises(NotAllowed):
        services.ticket_visit(ticket=ended, actor=alice_actor, satisfaction="satisfied")


def test_a_termination_needs_a_reason(repair, alice_actor):
    with pytest.raises(DomainError) as refused:
        services.ticket_terminate(ticket=repair, actor=alice_actor, reason=" ")
    assert list(refused.value.field_errors) == ["reason"]
    assert Ticket.objects.get(pk=repair.pk).status == "dispatched"


def test_a_handed_back_order_can_be_terminated_and_a_resolved_one_cannot(repair, crew, alice_actor):
    services.ticket_record_arrival(ticket=repair, actor=crew)
    services.ticket_handback(ticket=repair, actor=crew, cause="客户内部设备")
    assert services.ticket_terminate(
        ticket=repair, actor=alice_actor, reason="客户产权"
    ).status == ("terminated")
    with pytest.raises(NotAllowed):
        services.ticket_terminate(ticket=repair, actor=alice_actor, reason="再次")
