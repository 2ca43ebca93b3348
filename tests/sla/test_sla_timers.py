"""Timers start and stop on the life-cycle events of the ticket services.

Times are written on the Beijing wall clock and passed in explicitly (``now=``).
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.selectors import deadlines_for
from tickets import services

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def bj(year, month, day, hour=0, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


def test_a_rural_repair_dispatched_at_ten_is_due_on_site_at_eleven_twenty_five(alice_actor, rural_customer):
    ticket = services.ticket_create(category="repair", caller_phone="13800000002", description="停电",
                                    actor=alice_actor, customer=rural_customer, now=bj(2025, 6, 3, 9, 58))
    ticket = services.ticket_dispatch(ticket=ticket, actor=alice_actor, now=bj(2025, 6, 3, 10, 0))
    assert deadlines_for(ticket) == {"arrival": bj(2025, 6, 3, 11, 25)}
