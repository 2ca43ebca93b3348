"""A hand-made day at the centre whose every figure is worked out by hand in the tests.

The day is Monday 4 March 2024 on the Beijing wall clock; `BJ(h, m, s)` is a moment of it.
Rows are written directly (not through the services) so each time is exactly what the
test says: the figures, not the life cycle, are under test here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from calls.models import Call
from outages.models import Outage
from sla.models import SlaRule, Timer
from tickets.models import Ticket

BEIJING = ZoneInfo("Asia/Shanghai")
DAY_START = datetime(2024, 3, 4, tzinfo=BEIJING)
DAY_END = DAY_START + timedelta(days=1)
NOW = datetime(2024, 3, 4, 17, 0, tzinfo=BEIJING)


def BJ(h: int, m: int = 0, s: int = 0, *, day: int = 4) -> datetime:  # noqa: N802 - reads like a clock
    return datetime(2024, 3, day, h, m, s, tzinfo=BEIJING)


@dataclass
class Day:
    calls: dict[str, Call] = field(default_factory=dict)
    tickets: dict[str, Ticket] = field(default_factory=dict)
    outage: Outage | None = None
    gina: User | None = None


def make_call(
    call_id: str,
    phone: str,
    ring: datetime,
    *,
    answer: float | None = None,
    hangup: float | None = None,
    agent: User | None = None,
) -> Call:
    return Call.objects.create(
        call_id=call_id,
        caller_phone=phone,
        agent=agent,
        ring_at=ring,
        answer_at=ring + timedelta(seconds=answer) if answer is not None else None,
        hangup_at=ring + timedelta(seconds=hangup) if hangup is not None else None,
    )


def make_ticket(
    name: str, category: str, created: datetime, *, owner: User | None, **fields
) -> Ticket:
    ticket = Ticket.objects.create(
        category=category,
        caller_phone="13900009999",
        call_at=created,
        description=name,
        created_at=created,
        owner=owner,
        **fields,
    )
    ticket.number = f"T{ticket.pk:08d}"
    ticket.save(update_fields=["number"])
    return ticket


def make_timer(
    ticket: Ticket,
    name: str,
    started: datetime,
    minutes: float,
    *,
    stopped: datetime | None = None,
    breached: bool = False,
) -> Timer:
    rule = SlaRule.objects.filter(name=name).order_by("pk").first()
    due = started + timedelta(minutes=minutes)
    return Timer.objects.create(
        ticket=ticket,
        name=name,
        rule=rule,
        started_at=started,
        due_at=due,
        at_risk_at=started + timedelta(minutes=minutes * 0.8),
        stopped_at=stopped,
        breached_at=due if breached else None,
        category=ticket.category,
        area_type=ticket.area_type,
        handling_unit=ticket.handling_unit,
        owner=ticket.owner,
    )
