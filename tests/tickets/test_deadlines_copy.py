"""Each order keeps a copy of its running clocks' due times (`Ticket.deadlines`, what the API
lists show); after every change it says what the timers say."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sla.selectors import deadlines_for
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def bj(day, hour, minute=0):
    return datetime(2025, 6, day, hour, minute, tzinfo=BEIJING)


def copy_agrees(ticket: Ticket) -> dict[str, str]:
    stored = Ticket.objects.get(pk=ticket.pk).deadlines
    assert stored == {
        name: due.astimezone(BEIJING).isoformat() for name, due in deadlines_for(ticket).items()
    }
    return stored


def test_the_copy_follows_a_repair_from_the_call_to_the_crew_on_site(
    alice_actor, urban_customer, bob
):
    services.call_event_handle(call_id="c-9", event="ring", at=bj(3, 10))
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
            call_id="c-9",
        ),
        actor=alice_actor,
        now=bj(3, 10, 1),
    )
    assert copy_agrees(ticket) == {}  # the caller is still on the line

    services.call_event_handle(call_id="c-9", event="hangup", at=bj(3, 10, 2))
    assert copy_agrees(ticket) == {"dispatch": "2025-06-03T10:05:00+08:00"}

    ticket = services.ticket_dispatch(ticket=ticket, actor=alice_actor, now=bj(3, 10, 3))
    assert copy_agrees(ticket) == {"arrival": "2025-06-03T10:43:00+08:00"}

    ticket = services.ticket_set_appointment(
        ticket=ticket, appointment_at=bj(3, 14), actor=alice_actor, now=bj(3, 10, 5)
    )
    assert copy_agrees(ticket) == {"arrival": "2025-06-03T14:40:00+08:00"}

    ticket = services.ticket_record_arrival(
        ticket=ticket, actor=services.Actor(user=bob), now=bj(3, 14, 10)
    )
    assert copy_agrees(ticket) == {}


def test_the_copy_moves_with_a_paused_reply_clock(alice_actor, urban_customer):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="complaint",
            caller_phone="13800000001",
            description="态度差",
            party="城东供电所",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=bj(3, 10),
    )
    assert copy_agrees(ticket)["reply"] == "2025-06-08T10:00:00+08:00"

    reply = ticket.timers.get(name="reply")
    services.ticket_timer_pause(
        timer=reply, reason="等待客户提供材料", actor=alice_actor, now=bj(4, 10)
    )
    services.ticket_timer_resume(timer=reply, actor=alice_actor, now=bj(5, 10))

    assert copy_agrees(ticket)["reply"] == "2025-06-09T10:00:00+08:00"
