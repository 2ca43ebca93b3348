"""Timers start and stop on the life-cycle events of the ticket services.

Times are written on the Beijing wall clock (as the agents and the regulations read them)
and passed to the services explicitly with ``now=``.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from order_cast import take_order

from servicedesk.errors import DomainError
from sla.checker import sla_check
from sla.models import Breach, SlaRule, Timer
from sla.selectors import deadlines_for, estimated_deadlines_for, running_timers_prefetch
from sla.services.rules import sla_rule_revise
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket, TicketEvent

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def bj(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


def repair(actor, customer, *, now, **extra):
    return take_order(
        category="repair",
        caller_phone="13800000001",
        description="家里没电",
        customer=customer,
        **extra,
        actor=actor,
        now=now,
    )


def complaint(actor, customer, *, now, **extra):
    return take_order(
        category="complaint",
        caller_phone="13800000001",
        description="抄表员态度差",
        party="城东供电所",
        customer=customer,
        **extra,
        actor=actor,
        now=now,
    )


def revise(name, category, area_type="", *, now, **changes):
    rule = SlaRule.objects.get(
        name=name, category=category, area_type=area_type, effective_to__isnull=True
    )
    return sla_rule_revise(rule=rule, changes=changes, now=now)


# --- Due times of every timer ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_fixture", "due"),
    [
        ("urban_customer", bj(2025, 6, 3, 10, 40)),
        ("rural_customer", bj(2025, 6, 3, 11, 25)),
        ("remote_customer", bj(2025, 6, 3, 12, 0)),
    ],
)
def test_a_repair_dispatched_at_ten_is_due_on_site_by_its_area_type(
    request, alice_actor, customer_fixture, due
):
    customer = request.getfixturevalue(customer_fixture)
    ticket = repair(alice_actor, customer, now=bj(2025, 6, 3, 9, 58))
    ticket = services.ticket_dispatch(ticket=ticket, actor=alice_actor, now=bj(2025, 6, 3, 10, 0))
    assert deadlines_for(ticket) == {"arrival": due}


def test_an_order_taken_without_a_call_must_be_dispatched_three_minutes_after_it_is_accepted(
    alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 23, 58, 30))
    assert deadlines_for(ticket) == {"dispatch": bj(2025, 6, 4, 0, 1, 30)}


def test_the_dispatch_clock_of_an_order_taken_during_a_call_starts_when_the_call_ends(
    alice, alice_actor, urban_customer
):
    services.call_event_handle(
        call_id="c-1", event="ring", at=bj(2025, 6, 3, 10, 0), caller_phone="13800000001"
    )
    services.call_event_handle(
        call_id="c-1", event="answer", at=bj(2025, 6, 3, 10, 0, 5), agent_username="alice"
    )
    ticket = repair(alice_actor, urban_customer, call_id="c-1", now=bj(2025, 6, 3, 10, 2))
    assert deadlines_for(ticket) == {}

    services.call_event_handle(call_id="c-1", event="hangup", at=bj(2025, 6, 3, 10, 4))

    assert deadlines_for(ticket) == {"dispatch": bj(2025, 6, 3, 10, 7)}


def test_an_order_written_up_after_its_call_ended_is_due_three_minutes_after_the_hang_up(
    alice_actor, urban_customer
):
    services.call_event_handle(call_id="c-2", event="ring", at=bj(2025, 6, 3, 9, 0))
    services.call_event_handle(call_id="c-2", event="hangup", at=bj(2025, 6, 3, 9, 2))
    ticket = repair(alice_actor, urban_customer, call_id="c-2", now=bj(2025, 6, 3, 9, 4))
    assert deadlines_for(ticket) == {"dispatch": bj(2025, 6, 3, 9, 5)}
    assert Timer.objects.get(ticket=ticket).started_at == bj(2025, 6, 3, 9, 2)
    assert ticket.timers.count() == 1


def test_an_order_dispatched_before_its_call_ended_never_runs_a_dispatch_clock(
    alice_actor, urban_customer
):
    services.call_event_handle(call_id="c-3", event="ring", at=bj(2025, 6, 3, 10, 0))
    ticket = repair(
        alice_actor, urban_customer, call_id="c-3", dispatch=True, now=bj(2025, 6, 3, 10, 2)
    )
    services.call_event_handle(call_id="c-3", event="hangup", at=bj(2025, 6, 3, 10, 4))
    assert list(ticket.timers.values_list("name", flat=True)) == ["arrival"]
    assert deadlines_for(ticket) == {"arrival": bj(2025, 6, 3, 10, 42)}


def test_dispatch_stops_the_dispatch_clock_and_starts_arrival_with_the_crew_as_handling_unit(
    alice_actor, urban_customer, urban_crew
):
    ticket = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0))
    ticket = services.ticket_dispatch(ticket=ticket, actor=alice_actor, now=bj(2025, 6, 3, 10, 2))
    dispatch = Timer.objects.get(ticket=ticket, name="dispatch")
    arrival = Timer.objects.get(ticket=ticket, name="arrival")
    assert dispatch.stopped_at == bj(2025, 6, 3, 10, 2) and dispatch.breached_at is None
    assert dispatch.handling_unit == urban_crew
    assert arrival.started_at == bj(2025, 6, 3, 10, 2) and arrival.handling_unit == urban_crew
    assert arrival.area_type == "urban" and arrival.owner_id == alice_actor.user_id


def test_a_crew_on_site_stops_the_arrival_clock(alice_actor, bob, urban_customer):
    ticket = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    ticket = services.ticket_record_arrival(
        ticket=ticket, actor=services.Actor(user=bob), now=bj(2025, 6, 3, 10, 30)
    )
    assert deadlines_for(ticket) == {}
    assert Timer.objects.get(ticket=ticket, name="arrival").stopped_at == bj(2025, 6, 3, 10, 30)


@pytest.mark.parametrize(
    ("category", "extra", "name", "due"),
    [
        ("complaint", {"party": "城东供电所"}, "reply", bj(2025, 6, 8, 9, 15)),
        ("report", {"party": "某抄表员"}, "reply", bj(2025, 6, 13, 9, 15)),
        ("inquiry", {}, "callback", bj(2025, 6, 4, 9, 15)),
    ],
)
def test_written_replies_are_due_in_calendar_days_from_acceptance(
    alice_actor, urban_customer, category, extra, name, due
):
    ticket = take_order(
        category=category,
        caller_phone="13800000001",
        description="来电",
        customer=urban_customer,
        **extra,
        actor=alice_actor,
        now=bj(2025, 6, 3, 9, 15),
    )
    assert deadlines_for(ticket)[name] == due


def test_an_inquiry_answered_on_the_call_runs_no_clock(alice_actor, urban_customer):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="inquiry",
            caller_phone="13800000001",
            description="电价咨询",
            customer=urban_customer,
            answer_on_call=True,
            reply="居民阶梯电价第一档0.4883元",
        ),
        actor=alice_actor,
        now=bj(2025, 6, 3, 9, 15),
    )
    assert ticket.timers.count() == 0


def test_the_reply_stops_the_complaint_clock(
    alice_actor, carol, urban_customer, service_department
):
    ticket = complaint(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 9, 0))
    services.ticket_reply(
        ticket=ticket,
        actor=services.Actor(user=carol),
        reply="已核实并致歉",
        now=bj(2025, 6, 5, 9, 0),
    )
    assert Timer.objects.get(ticket=ticket, name="reply").stopped_at == bj(2025, 6, 5, 9, 0)
    # The reply is handed back for the centre's check: no clock runs until it is accepted,
    # then the return-visit window (24 h).
    assert deadlines_for(ticket) == {}
    services.ticket_check_accept(ticket=ticket, actor=alice_actor, now=bj(2025, 6, 5, 10, 0))
    assert deadlines_for(ticket) == {"visit": bj(2025, 6, 6, 10, 0)}


def test_restoration_is_off_by_default_and_runs_from_arrival_once_switched_on(
    alice_actor, bob, urban_customer
):
    first = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    services.ticket_record_arrival(
        ticket=first, actor=services.Actor(user=bob), now=bj(2025, 6, 3, 10, 30)
    )
    assert not first.timers.filter(name="restoration").exists()

    revise("restoration", "repair", "urban", now=bj(2025, 6, 3, 11, 0), is_active=True)
    second = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 12, 0))
    second = services.ticket_record_arrival(
        ticket=second, actor=services.Actor(user=bob), now=bj(2025, 6, 3, 12, 20)
    )
    assert deadlines_for(second) == {"restoration": bj(2025, 6, 3, 15, 20)}
    services.ticket_resolve(
        ticket=second,
        actor=services.Actor(user=bob),
        cause="熔丝熔断",
        work_done="更换熔丝",
        now=bj(2025, 6, 3, 13, 0),
    )
    assert Timer.objects.get(ticket=second, name="restoration").stopped_at == bj(2025, 6, 3, 13, 0)


def test_cancelling_an_order_stops_every_clock(alice_actor, urban_customer):
    ticket = complaint(alice_actor, urban_customer, now=bj(2025, 6, 3, 9, 0))
    assert set(deadlines_for(ticket)) == {"dispatch", "reply"}
    services.ticket_cancel(
        ticket=ticket, actor=alice_actor, reason="客户撤诉", now=bj(2025, 6, 3, 9, 1)
    )
    assert deadlines_for(ticket) == {}
    assert not Breach.objects.exists()


# --- Rules as data -----------------------------------------------------------------------------


def test_the_most_specific_rule_wins_an_important_customer_gets_thirty_minutes(
    alice_actor, important_customer, urban_customer
):
    SlaRule.objects.create(
        name="arrival",
        category="repair",
        important=True,
        amount=30,
        unit="minutes",
        start_event="dispatched",
        stop_event="arrived",
        effective_from=bj(2020, 1, 1),
    )
    hospital = repair(alice_actor, important_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    household = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    assert deadlines_for(hospital) == {"arrival": bj(2025, 6, 3, 10, 30)}
    assert deadlines_for(household) == {"arrival": bj(2025, 6, 3, 10, 40)}


def test_an_order_keeps_its_rule_after_the_admin_changes_it(alice_actor, urban_customer):
    before = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0))
    revised = revise("arrival", "repair", "urban", now=bj(2025, 6, 3, 10, 1), amount=45)
    after = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 2))

    before = services.ticket_dispatch(ticket=before, actor=alice_actor, now=bj(2025, 6, 3, 10, 3))
    after = services.ticket_dispatch(ticket=after, actor=alice_actor, now=bj(2025, 6, 3, 10, 3))

    assert deadlines_for(before) == {"arrival": bj(2025, 6, 3, 10, 43)}
    assert deadlines_for(after) == {"arrival": bj(2025, 6, 3, 10, 48)}
    assert Timer.objects.get(ticket=after, name="arrival").rule == revised
    assert SlaRule.objects.filter(name="arrival", area_type="urban").count() == 2


def test_a_rule_not_yet_in_effect_is_edited_in_place(db):
    rule = SlaRule.objects.create(
        name="arrival",
        category="repair",
        area_type="rural",
        amount=90,
        unit="minutes",
        start_event="dispatched",
        stop_event="arrived",
        effective_from=bj(2026, 1, 1),
    )
    saved = sla_rule_revise(rule=rule, changes={"amount": 80}, now=bj(2025, 6, 3))
    assert saved.pk == rule.pk and saved.amount == 80


# --- Working days and the holiday table -------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "due"),
    [
        # Oct 1-8 2025 are off; Saturday Oct 11 is an adjusted working day (调休).
        (3, bj(2025, 10, 11, 10, 0)),
        (5, bj(2025, 10, 14, 10, 0)),
    ],
)
def test_a_working_day_complaint_taken_before_national_day_lands_after_the_holiday(
    alice_actor, urban_customer, days, due
):
    revise("reply", "complaint", now=bj(2025, 1, 1), amount=days, unit="working_days")
    ticket = complaint(alice_actor, urban_customer, now=bj(2025, 9, 30, 10, 0))
    assert deadlines_for(ticket)["reply"] == due
    assert estimated_deadlines_for(ticket) == {}


def test_a_deadline_past_the_holiday_table_is_estimated_not_an_error(alice_actor, urban_customer):
    revise("reply", "complaint", now=bj(2025, 1, 1), amount=5, unit="working_days")
    # Friday 2 May 2031: no published calendar, so Monday to Friday is assumed.
    ticket = complaint(alice_actor, urban_customer, now=bj(2031, 5, 2, 10, 0))
    assert deadlines_for(ticket)["reply"] == bj(2031, 5, 9, 10, 0)
    assert estimated_deadlines_for(ticket) == {"reply": bj(2031, 5, 9, 10, 0)}


def test_a_holiday_added_by_the_administrator_moves_working_day_deadlines(
    alice_actor, urban_customer
):
    from sla.models import Holiday, HolidayYear
    from sla.selectors import work_calendar_clear

    revise("reply", "complaint", now=bj(2025, 1, 1), amount=1, unit="working_days")
    HolidayYear.objects.create(year=2027, source="admin")
    Holiday.objects.create(day=datetime(2027, 1, 1).date(), name="元旦")
    work_calendar_clear()
    # Thursday 31 Dec 2026 + 1 working day: Friday 1 Jan 2027 is off, so Monday 4 Jan.
    ticket = complaint(alice_actor, urban_customer, now=bj(2026, 12, 31, 10, 0))
    assert deadlines_for(ticket)["reply"] == bj(2027, 1, 4, 10, 0)
    assert estimated_deadlines_for(ticket) == {}


# --- Appointments and pauses --------------------------------------------------------------------


def test_an_appointment_moves_the_arrival_clock_by_exactly_its_length(alice_actor, urban_customer):
    ticket = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    assert deadlines_for(ticket) == {"arrival": bj(2025, 6, 3, 10, 40)}

    services.ticket_set_appointment(
        ticket=ticket,
        appointment_at=bj(2025, 6, 3, 14, 0),
        actor=alice_actor,
        note="客户下午在家",
        now=bj(2025, 6, 3, 10, 5),
    )

    assert deadlines_for(ticket) == {"arrival": bj(2025, 6, 3, 14, 40)}
    ticket.refresh_from_db()
    assert ticket.appointment_at == bj(2025, 6, 3, 14, 0)
    event = ticket.events.get(kind=TicketEvent.Kind.TIMER)
    assert (event.action, event.note, event.data["moved_seconds"]) == (
        "appointment",
        "客户下午在家",
        4 * 3600,
    )


def test_an_appointment_made_before_dispatch_starts_the_arrival_clock_at_the_appointment(
    alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0))
    services.ticket_set_appointment(
        ticket=ticket,
        appointment_at=bj(2025, 6, 4, 9, 0),
        actor=alice_actor,
        now=bj(2025, 6, 3, 10, 1),
    )
    ticket = services.ticket_dispatch(
        ticket=Ticket.objects.get(pk=ticket.pk), actor=alice_actor, now=bj(2025, 6, 3, 10, 2)
    )
    assert deadlines_for(ticket) == {"arrival": bj(2025, 6, 4, 9, 40)}


def test_an_appointment_in_the_past_is_refused(alice_actor, urban_customer):
    ticket = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    with pytest.raises(DomainError) as error:
        services.ticket_set_appointment(
            ticket=ticket,
            appointment_at=bj(2025, 6, 3, 9, 0),
            actor=alice_actor,
            now=bj(2025, 6, 3, 10, 5),
        )
    assert "appointment_at" in error.value.field_errors
    assert deadlines_for(ticket) == {"arrival": bj(2025, 6, 3, 10, 40)}


def test_a_pause_moves_a_day_based_deadline_by_exactly_its_length_and_is_on_the_timeline(
    alice_actor, urban_customer
):
    ticket = complaint(alice_actor, urban_customer, now=bj(2025, 6, 3, 9, 0))
    timer = Timer.objects.get(ticket=ticket, name="reply")
    services.ticket_timer_pause(
        timer=timer, reason="客户电话无法接通", actor=alice_actor, now=bj(2025, 6, 4, 9, 0)
    )
    assert deadlines_for(ticket)["reply"] == bj(2025, 6, 8, 9, 0)  # unchanged while paused

    timer = services.ticket_timer_resume(timer=timer, actor=alice_actor, now=bj(2025, 6, 6, 12, 30))

    assert deadlines_for(ticket)["reply"] == bj(2025, 6, 8, 9, 0) + timedelta(
        days=2, hours=3, minutes=30
    )
    assert timer.paused_for == timedelta(days=2, hours=3, minutes=30)
    timeline = [(e.action, e.note) for e in ticket.events.filter(kind=TicketEvent.Kind.TIMER)]
    assert timeline == [("pause", "客户电话无法接通"), ("resume", "")]


def test_a_minute_clock_cannot_be_paused(alice_actor, urban_customer):
    ticket = repair(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 10, 0))
    with pytest.raises(DomainError):
        services.ticket_timer_pause(
            timer=ticket.timers.get(name="arrival"),
            reason="客户不在家",
            actor=alice_actor,
            now=bj(2025, 6, 3, 10, 5),
        )


def test_a_pause_needs_a_reason(alice_actor, urban_customer):
    ticket = complaint(alice_actor, urban_customer, now=bj(2025, 6, 3, 9, 0))
    with pytest.raises(DomainError) as error:
        services.ticket_timer_pause(
            timer=ticket.timers.get(name="reply"),
            reason=" ",
            actor=alice_actor,
            now=bj(2025, 6, 3, 10),
        )
    assert "reason" in error.value.field_errors


def test_a_clock_stopped_while_paused_counts_the_pause(
    alice_actor, carol, urban_customer, service_department
):
    ticket = complaint(alice_actor, urban_customer, dispatch=True, now=bj(2025, 6, 3, 9, 0))
    services.ticket_timer_pause(
        timer=ticket.timers.get(name="reply"),
        reason="等待客户提供材料",
        actor=alice_actor,
        now=bj(2025, 6, 7, 9, 0),
    )
    services.ticket_reply(
        ticket=ticket, actor=services.Actor(user=carol), reply="已处理", now=bj(2025, 6, 10, 9, 0)
    )
    timer = ticket.timers.get(name="reply")
    assert timer.paused_seconds == 3 * 86400 and timer.due_at == bj(2025, 6, 11, 9, 0)
    assert not Breach.objects.exists()


# --- Breaches recorded when a late clock stops ----------------------------------------------------


def test_a_clock_stopped_late_while_the_scanner_was_down_records_its_breach_at_the_due_time(
    alice_actor, urban_customer
):
    ticket = repair(alice_actor, urban_customer, now=bj(2025, 6, 3, 10, 0))
    services.ticket_dispatch(ticket=ticket, actor=alice_actor, now=bj(2025, 6, 3, 10, 5))
    breach = Breach.objects.get(ticket=ticket)
    assert (breach.name, breach.occurred_at, breach.recorded_at) == (
        "dispatch",
        bj(2025, 6, 3, 10, 3),
        bj(2025, 6, 3, 10, 5),
    )
    assert sla_check(now=bj(2025, 6, 3, 10, 6)).breached == 0
    assert Breach.objects.count() == 1


# --- Reading deadlines on list pages ---------------------------------------------------------------


def test_a_list_of_orders_reads_every_deadline_in_two_queries(
    alice_actor, urban_customer, django_assert_num_queries
):
    for minute in range(5):
        repair(
            alice_actor, urban_customer, dispatch=minute % 2 == 0, now=bj(2025, 6, 3, 10, minute)
        )
    with django_assert_num_queries(2):
        tickets = list(
            Ticket.objects.prefetch_related(running_timers_prefetch()).order_by("created_at")
        )
        deadlines = [deadlines_for(ticket) for ticket in tickets]
    assert deadlines == [
        {"arrival": bj(2025, 6, 3, 10, 40)},
        {"dispatch": bj(2025, 6, 3, 10, 4)},
        {"arrival": bj(2025, 6, 3, 10, 42)},
        {"dispatch": bj(2025, 6, 3, 10, 6)},
        {"arrival": bj(2025, 6, 3, 10, 44)},
    ]
