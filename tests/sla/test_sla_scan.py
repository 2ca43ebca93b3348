"""The scanner: at-risk warnings, breaches recorded exactly once with their true moment,
the escalation ladder, notifications, supervision, acknowledgements, the live call alarm.

Each test passes ``now`` to ``sla_scan`` as Celery beat would, but with the clock chosen.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from calls.models import Call
from servicedesk.errors import DomainError
from sla.checker import sla_check
from sla.models import Breach, EscalationStep, Notification, Timer
from sla.selectors import calls_ringing_past_limit, notifications_unread_for
from sla.services.notifications import notification_mark_read
from sla.services.scan import ScanResult
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket, TicketEvent

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def bj(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


T0 = bj(2025, 6, 3, 10, 0)


@pytest.fixture
def dispatched_repair(alice_actor, urban_customer, dave):
    """An urban repair dispatched to the urban crew at 10:00, due on site at 10:40."""
    return services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="家里没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
        now=T0,
    )


@pytest.fixture
def centre_manager(centre):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user(username="frank", password="pass-frank", first_name="周主任")
    user.groups.add(Group.objects.get(name="supervisor"))
    centre.supervisors.add(user)
    return user


def test_a_timer_past_its_due_time_gets_exactly_one_breach_at_its_due_time(dispatched_repair):
    assert sla_check(now=bj(2025, 6, 3, 10, 40)).breached == 0  # due, not yet past
    assert not Ticket.objects.get(pk=dispatched_repair.pk).breached

    first = sla_check(now=bj(2025, 6, 3, 10, 40, 1))
    second = sla_check(now=bj(2025, 6, 3, 10, 40, 6))

    assert (first.breached, second.breached) == (1, 0)
    breach = Breach.objects.get()
    assert (breach.ticket, breach.name, breach.occurred_at) == (
        dispatched_repair,
        "arrival",
        bj(2025, 6, 3, 10, 40),
    )
    assert breach.handling_unit.code == "crew-urban" and breach.category == "repair"
    assert Timer.objects.get(name="arrival").breached_at == bj(2025, 6, 3, 10, 40)
    # The flag the lists' `breached` filter reads, set with the breach.
    assert Ticket.objects.get(pk=dispatched_repair.pk).breached


def test_a_scanner_that_was_down_catches_up_with_the_true_moment_of_each_breach(
    alice_actor, urban_customer, rural_customer
):
    urban = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
        now=T0,
    )
    rural = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000002",
            description="停电",
            customer=rural_customer,
        ),
        actor=alice_actor,
        dispatch=True,
        now=T0,
    )

    result = sla_check(now=bj(2025, 6, 3, 13, 0))

    assert result.breached == 2
    assert {b.ticket_id: b.occurred_at for b in Breach.objects.all()} == {
        urban.pk: bj(2025, 6, 3, 10, 40),
        rural.pk: bj(2025, 6, 3, 11, 25),
    }
    assert set(Breach.objects.values_list("recorded_at", flat=True)) == {bj(2025, 6, 3, 13, 0)}


def test_a_breach_notifies_the_units_supervisors_marks_the_order_supervised_and_is_on_the_timeline(
    dispatched_repair, dave
):
    sla_check(now=bj(2025, 6, 3, 10, 41))

    notification = notifications_unread_for(dave).get()
    assert notification.kind == "breach" and notification.ticket == dispatched_repair
    assert notification.message == f"到达现场时限已超时：工单 {dispatched_repair.number}"
    ticket = Ticket.objects.get(pk=dispatched_repair.pk)
    assert ticket.supervised and ticket.supervised_at == bj(2025, 6, 3, 10, 41)
    breach_event = ticket.events.get(kind=TicketEvent.Kind.BREACH)
    assert breach_event.at == bj(2025, 6, 3, 10, 40) and breach_event.data["timer"] == "arrival"
    assert ticket.events.filter(kind=TicketEvent.Kind.SUPERVISED).count() == 1


def test_a_dispatch_breach_before_any_unit_notifies_the_call_centre_supervisors(
    alice_actor, urban_customer, centre_manager
):
    services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=T0,
    )
    assert sla_check(now=bj(2025, 6, 3, 10, 3, 1)).breached == 1
    assert notifications_unread_for(centre_manager).get().kind == "breach"


def test_the_follow_up_of_a_storm_of_breaches_is_done_in_batches_and_never_twice(
    alice_actor, urban_customer, dave
):
    for minute in range(5):
        services.ticket_create(
            draft=TicketDraft(
                category="repair",
                caller_phone="13800000001",
                description="停电",
                customer=urban_customer,
            ),
            actor=alice_actor,
            dispatch=True,
            now=T0 + timedelta(minutes=minute),
        )
    result = sla_check(now=bj(2025, 6, 3, 12, 0), followup_limit=2)
    assert (result.breached, result.followed_up) == (5, 2)
    # The orders are written by the follow-up, flag and supervision together.
    assert Ticket.objects.filter(supervised=True).count() == 2
    assert Ticket.objects.filter(breached=True, supervised=True).count() == 2
    assert services.tickets_breach_followup(now=bj(2025, 6, 3, 12, 0, 5), limit=10) == 3
    assert services.tickets_breach_followup(now=bj(2025, 6, 3, 12, 0, 10), limit=10) == 0
    assert Ticket.objects.filter(breached=True, supervised=True).count() == 5
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.SUPERVISED).count() == 5


def test_an_order_supervised_by_hand_is_flagged_breached_and_keeps_its_supervision(
    dispatched_repair, alice_actor
):
    services.ticket_mark_supervised(
        ticket=dispatched_repair, actor=alice_actor, reason="重要客户", now=bj(2025, 6, 3, 10, 20)
    )
    assert not Ticket.objects.get(pk=dispatched_repair.pk).breached

    sla_check(now=bj(2025, 6, 3, 10, 41))

    ticket = Ticket.objects.get(pk=dispatched_repair.pk)
    assert ticket.breached and ticket.supervised_at == bj(2025, 6, 3, 10, 20)
    assert [e.note for e in ticket.events.filter(kind=TicketEvent.Kind.SUPERVISED)] == ["重要客户"]


def test_recording_many_breaches_takes_a_fixed_number_of_queries(
    alice_actor, urban_customer, dave, django_assert_max_num_queries
):
    for minute in range(30):
        services.ticket_create(
            draft=TicketDraft(
                category="repair",
                caller_phone="13800000001",
                description="停电",
                customer=urban_customer,
            ),
            actor=alice_actor,
            dispatch=True,
            now=T0 + timedelta(minutes=minute),
        )
    # Claim, insert breaches, notify, at-risk, ladder: the same count for 30 or 30,000.
    with django_assert_max_num_queries(15):
        result = sla_check(now=bj(2025, 6, 3, 12, 0), followup_limit=0)
    assert result.breached == 30
    assert Notification.objects.filter(recipient=dave, kind="breach").count() == 30
    # The scan leaves the orders alone: its follow-up writes them, set-based too.
    assert not Ticket.objects.filter(breached=True).exists()
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).exists()
    with django_assert_max_num_queries(12):
        assert services.tickets_breach_followup(now=bj(2025, 6, 3, 12, 0, 5), limit=100) == 30
    assert TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH).count() == 30
    assert Ticket.objects.filter(breached=True, supervised=True).count() == 30


def test_a_scan_with_nothing_due_is_a_handful_of_queries(
    dispatched_repair, django_assert_max_num_queries
):
    # Six statements (jit off, the ladder, three claims, the follow-up's pick); the test's own
    # transaction adds four savepoint statements.
    with django_assert_max_num_queries(10):
        result = sla_check(now=bj(2025, 6, 3, 10, 1))
    assert result == ScanResult()


# --- At risk -------------------------------------------------------------------------------------


def test_at_eighty_percent_the_unit_is_warned_once_before_anyone_acknowledged(
    dispatched_repair, bob
):
    assert sla_check(now=bj(2025, 6, 3, 10, 31, 59)).at_risk == 0
    assert sla_check(now=bj(2025, 6, 3, 10, 32)).at_risk == 1
    assert sla_check(now=bj(2025, 6, 3, 10, 33)).at_risk == 0
    warning = notifications_unread_for(bob).get()
    assert (
        warning.kind == "at_risk"
        and warning.message == f"到达现场时限即将超时：工单 {dispatched_repair.number}"
    )


def test_an_at_risk_warning_goes_to_the_handler_first(dispatched_repair, bob, dave):
    from django.contrib.auth.models import User

    other = User.objects.create_user(username="gary")
    dispatched_repair.handling_unit.members.add(other)
    services.ticket_acknowledge(
        ticket=dispatched_repair, actor=services.Actor(user=bob), now=bj(2025, 6, 3, 10, 5)
    )
    sla_check(now=bj(2025, 6, 3, 10, 33))
    assert [n.recipient for n in Notification.objects.filter(kind="at_risk")] == [bob]


def test_a_dispatch_at_risk_warning_goes_to_the_agent_who_took_the_call(
    alice, alice_actor, urban_customer
):
    services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=T0,
    )
    sla_check(now=bj(2025, 6, 3, 10, 2, 30))
    assert notifications_unread_for(alice).get().kind == "at_risk"


def test_a_paused_clock_is_neither_at_risk_nor_breached(
    alice_actor, urban_customer, service_department
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="complaint",
            caller_phone="13800000001",
            description="服务态度",
            party="营业厅",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=T0,
    )
    services.ticket_dispatch(ticket=ticket, actor=alice_actor, now=T0)
    services.ticket_timer_pause(
        timer=ticket.timers.get(name="reply"),
        reason="客户出差",
        actor=alice_actor,
        now=bj(2025, 6, 4),
    )
    result = sla_check(now=bj(2025, 6, 20))
    assert (result.at_risk, result.breached) == (0, 0)


# --- Escalation ------------------------------------------------------------------------------------


def test_the_second_level_of_the_ladder_fires_once_thirty_minutes_after_the_breach(
    dispatched_repair, dave, centre_manager
):
    sla_check(now=bj(2025, 6, 3, 10, 41))
    assert sla_check(now=bj(2025, 6, 3, 11, 9, 59)).escalated == 0
    assert sla_check(now=bj(2025, 6, 3, 11, 10)).escalated == 1
    assert sla_check(now=bj(2025, 6, 3, 11, 30)).escalated == 0

    escalation = Notification.objects.get(kind="escalation")
    assert escalation.recipient == centre_manager and escalation.ticket == dispatched_repair
    assert not Notification.objects.filter(recipient=dave, kind="escalation").exists()
    assert Timer.objects.get(name="arrival").escalation_level == 2


def test_a_scanner_catching_up_on_an_old_breach_climbs_the_ladder_at_once_and_only_once(
    dispatched_repair, dave, centre_manager
):
    first = sla_check(now=bj(2025, 6, 3, 11, 30))  # due 10:40, so 50 minutes late
    assert (first.breached, first.escalated) == (1, 1)
    assert sla_check(now=bj(2025, 6, 3, 12, 0)).escalated == 0
    assert Notification.objects.get(kind="escalation").recipient == centre_manager
    assert Notification.objects.get(kind="breach").recipient == dave
    assert Timer.objects.get(name="arrival").escalation_level == 2


def test_a_timer_stopped_after_its_breach_does_not_climb_the_ladder(
    dispatched_repair, bob, centre_manager
):
    sla_check(now=bj(2025, 6, 3, 10, 41))
    services.ticket_record_arrival(
        ticket=dispatched_repair, actor=services.Actor(user=bob), now=bj(2025, 6, 3, 10, 50)
    )
    assert sla_check(now=bj(2025, 6, 3, 12, 0)).escalated == 0
    assert not Notification.objects.filter(kind="escalation").exists()


def test_the_ladder_is_data_a_timer_specific_step_replaces_the_general_one(
    dispatched_repair, centre_manager
):
    EscalationStep.objects.create(level=2, name="arrival", after_minutes=5)
    sla_check(now=bj(2025, 6, 3, 10, 41))
    assert sla_check(now=bj(2025, 6, 3, 10, 46)).escalated == 1


# --- Acknowledgement ----------------------------------------------------------------------------------


def test_a_supervisor_acknowledges_a_breach_with_a_comment_kept_on_the_timeline(
    dispatched_repair, dave
):
    sla_check(now=bj(2025, 6, 3, 10, 41))
    breach = Breach.objects.get()

    services.ticket_breach_acknowledge(
        breach=breach, user=dave, comment="抢修车辆故障，已协调备用车", now=bj(2025, 6, 3, 10, 45)
    )

    breach.refresh_from_db()
    assert (breach.acknowledged_by, breach.acknowledged_at) == (dave, bj(2025, 6, 3, 10, 45))
    event = dispatched_repair.events.get(kind=TicketEvent.Kind.BREACH, action="acknowledge")
    assert (event.actor, event.note) == (dave, "抢修车辆故障，已协调备用车")
    assert not notifications_unread_for(dave).exists()
    with pytest.raises(DomainError):
        services.ticket_breach_acknowledge(
            breach=breach, user=dave, comment="再次确认", now=bj(2025, 6, 3, 10, 46)
        )


def test_an_acknowledgement_needs_a_comment(dispatched_repair, dave):
    sla_check(now=bj(2025, 6, 3, 10, 41))
    with pytest.raises(DomainError) as error:
        services.ticket_breach_acknowledge(
            breach=Breach.objects.get(), user=dave, comment="", now=bj(2025, 6, 3, 10, 45)
        )
    assert "comment" in error.value.field_errors


# --- Notifications ----------------------------------------------------------------------------------------


def test_a_hastening_notifies_the_handler(dispatched_repair, bob):
    services.ticket_acknowledge(
        ticket=dispatched_repair, actor=services.Actor(user=bob), now=bj(2025, 6, 3, 10, 5)
    )
    services.ticket_hasten(
        ticket=dispatched_repair,
        actor=services.Actor(label="ivr"),
        text="怎么还没到",
        now=bj(2025, 6, 3, 10, 20),
    )
    notification = notifications_unread_for(bob).get()
    assert notification.kind == "hastening" and dispatched_repair.number in notification.message


def test_marking_notifications_read_empties_the_badge(dispatched_repair, dave):
    sla_check(now=bj(2025, 6, 3, 10, 41))
    assert notifications_unread_for(dave).count() == 1
    assert notification_mark_read(user=dave, now=bj(2025, 6, 3, 10, 42)) == 1
    assert notifications_unread_for(dave).count() == 0


def test_no_breach_email_is_sent_by_default(dispatched_repair, dave):
    dave.email = "dave@example.cn"
    dave.save()
    sla_check(now=bj(2025, 6, 3, 10, 41))
    assert mail.outbox == []


def test_breach_emails_go_to_supervisors_when_switched_on(
    dispatched_repair, dave, settings, django_capture_on_commit_callbacks
):
    settings.SLA_BREACH_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    dave.email = "dave@example.cn"
    dave.save()
    with django_capture_on_commit_callbacks(execute=True):
        sla_check(now=bj(2025, 6, 3, 10, 41))
    assert [m.to for m in mail.outbox] == [["dave@example.cn"]]
    assert dispatched_repair.number in mail.outbox[0].subject


# --- Calls ---------------------------------------------------------------------------------------------------


def test_a_call_ringing_past_twelve_seconds_is_a_live_alarm(db):
    now = bj(2025, 6, 3, 10, 0, 30)
    Call.objects.create(call_id="long", ring_at=now - timedelta(seconds=13))
    Call.objects.create(call_id="short", ring_at=now - timedelta(seconds=11))
    Call.objects.create(
        call_id="answered",
        ring_at=now - timedelta(seconds=30),
        answer_at=now - timedelta(seconds=20),
    )
    Call.objects.create(
        call_id="abandoned",
        ring_at=now - timedelta(seconds=30),
        hangup_at=now - timedelta(seconds=1),
    )
    assert [c.call_id for c in calls_ringing_past_limit(now)] == ["long"]


def test_orders_breached_before_the_flag_existed_are_flagged_by_the_migration(
    alice_actor, urban_customer
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tickets.migrations.0005_ticket_breached")
    early = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=T0,
    )
    later = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000002",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=T0 + timedelta(hours=1),
    )
    sla_check(now=bj(2025, 6, 3, 10, 3, 1))  # the first order's 3-minute dispatch limit
    Ticket.objects.update(breached=False)  # as the rows were before the column came

    migration.flag_breached_orders(apps, None)

    assert dict(Ticket.objects.values_list("pk", "breached")) == {early.pk: True, later.pk: False}
