"""Fixtures of the dashboard tests: the hand-made day of `dashboard_day`, as fixtures."""

from __future__ import annotations

import pytest
from dashboard_day import (
    BJ,
    Day,
    make_call,
    make_ticket,
    make_timer,
)
from django.contrib.auth.models import Group, User

from outages.models import Outage
from tickets.models import Category, Satisfaction, Status, TicketEvent


@pytest.fixture
def gina(db) -> User:
    user = User.objects.create_user(username="gina", password="pass-gina", first_name="高娜")
    user.groups.add(Group.objects.get(name="agent"))
    return user


@pytest.fixture
def day(
    alice,
    gina,
    urban_area,
    rural_area,
    remote_area,
    urban_crew,
    rural_crew,
    remote_crew,
    service_department,
) -> Day:
    d = Day(gina=gina)
    c = d.calls
    # Calls. Phones A-G; c8 (the day before), c10 and c11 (the day after) are outside the day.
    c["c1"] = make_call("c1", "13900000001", BJ(9), answer=5, hangup=60, agent=alice)
    c["c2"] = make_call(
        "c2", "13900000002", BJ(9, 5), answer=12, hangup=180, agent=gina
    )  # exactly 12 s
    c["c3"] = make_call("c3", "13900000003", BJ(9, 10), answer=13, hangup=120, agent=gina)
    c["c4"] = make_call("c4", "13900000005", BJ(9, 20), hangup=3)  # short abandon
    c["c5"] = make_call("c5", "13900000006", BJ(9, 21), hangup=5)  # short abandon, exactly 5 s
    c["c6"] = make_call("c6", "13900000003", BJ(9, 30), hangup=30)  # abandoned; repeat of c3
    c["c7"] = make_call("c7", "13900000007", BJ(23, 59, 50))  # still ringing
    c["c8"] = make_call("c8", "13900000001", BJ(20, day=3), answer=4, hangup=60, agent=alice)
    c["c9"] = make_call("c9", "13900000004", BJ(10), answer=20, hangup=300, agent=alice)
    c["c10"] = make_call(
        "c10", "13900000001", BJ(9, day=5), answer=3, hangup=60
    )  # c1 + exactly 24 h
    c["c11"] = make_call(
        "c11", "13900000002", BJ(9, 5, 1, day=5), answer=3, hangup=60
    )  # c2 + 24 h 1 s

    d.outage = Outage.objects.create(
        number="TD-1", kind=Outage.Kind.FAULT, title="F2 线路故障", starts_at=BJ(13, 50)
    )
    t = d.tickets
    t["T1"] = make_ticket(
        "T1",
        Category.REPAIR,
        BJ(9, 0, 30),
        owner=alice,
        call=c["c1"],
        area_type="urban",
        service_area=urban_area,
        handling_unit=urban_crew,
        feeder="F1",
        transformer_area="ta1",
        dispatched_at=BJ(9, 3),
        arrived_at=BJ(9, 30),
        restored_at=BJ(10),
        resolved_at=BJ(10),
        satisfaction=Satisfaction.VERY_SATISFIED,
        status=Status.VISITED,
    )
    make_timer(t["T1"], "arrival", BJ(9, 3), 40, stopped=BJ(9, 30))
    make_timer(t["T1"], "restoration", BJ(9, 30), 180, stopped=BJ(10))
    t["T2"] = make_ticket(
        "T2",
        Category.COMPLAINT,
        BJ(10),
        owner=gina,
        handling_unit=service_department,
        party="城东营业厅",
        dispatched_at=BJ(10, 5),
        replied_at=BJ(10, day=6),
        satisfaction=Satisfaction.DISSATISFIED,
        status=Status.DISPATCHED,
        reopen_count=0,
    )
    make_timer(t["T2"], "reply", BJ(10), 5 * 24 * 60, stopped=BJ(10, day=6))
    t["T3"] = make_ticket(
        "T3",
        Category.REPAIR,
        BJ(10, 1),
        owner=alice,
        call=c["c9"],
        area_type="rural",
        service_area=rural_area,
        handling_unit=rural_crew,
        feeder="F1",
        transformer_area="ta1",
        dispatched_at=BJ(10, 4, 30),
        arrived_at=BJ(12),
        satisfaction=Satisfaction.SATISFIED,
        status=Status.VISITED,
    )
    make_timer(t["T3"], "arrival", BJ(10, 4, 30), 85, stopped=BJ(12), breached=True)
    t["T4"] = make_ticket(
        "T4",
        Category.REPAIR,
        BJ(9, 10),
        owner=alice,
        master=t["T1"],
        area_type="urban",
        handling_unit=urban_crew,
        feeder="F1",
        transformer_area="ta1",
        dispatched_at=BJ(9, 10, 5),
        status=Status.MERGED,
    )
    make_timer(
        t["T4"], "arrival", BJ(9, 10, 5), 40, stopped=BJ(10), breached=True
    )  # a child: left out
    t["T5"] = make_ticket(
        "T5",
        Category.APPLICATION,
        BJ(12),
        owner=alice,
        handling_unit=service_department,
        dispatched_at=BJ(18),
        reopen_count=1,
        satisfaction=Satisfaction.NEUTRAL,
        status=Status.DISPATCHED,
    )
    TicketEvent.objects.create(
        ticket=t["T5"],
        at=BJ(12, 2),
        kind="status",
        action="dispatch",
        from_status="accepted",
        to_status="dispatched",
    )
    TicketEvent.objects.create(
        ticket=t["T5"],
        at=BJ(18),
        kind="status",
        action="visit",
        from_status="resolved",
        to_status="dispatched",
    )
    t["T6"] = make_ticket(
        "T6", Category.INQUIRY, BJ(13), owner=alice, resolved_at=BJ(13), status=Status.RESOLVED
    )
    t["T7"] = make_ticket(
        "T7",
        Category.REPAIR,
        BJ(14),
        owner=alice,
        outage=d.outage,
        feeder="F2",
        status=Status.MERGED,
    )
    t["T8"] = make_ticket(
        "T8",
        Category.REPAIR,
        BJ(14, 5),
        owner=alice,
        outage=d.outage,
        feeder="F2",
        status=Status.MERGED,
    )
    t["T9"] = make_ticket(
        "T9",
        Category.REPAIR,
        BJ(15),
        owner=alice,
        area_type="urban",
        handling_unit=urban_crew,
        feeder="F1",
        transformer_area="ta2",
        dispatched_at=BJ(15, 2),
        status=Status.DISPATCHED,
    )
    make_timer(t["T9"], "arrival", BJ(15, 2), 40)  # running, past due at 17:00, scanner not run yet
    t["T10"] = make_ticket(
        "T10",
        Category.REPAIR,
        BJ(16),
        owner=alice,
        area_type="remote",
        service_area=remote_area,
        handling_unit=remote_crew,
        feeder="F3",
        dispatched_at=BJ(16, 1),
        status=Status.DISPATCHED,
    )
    make_timer(t["T10"], "arrival", BJ(16, 1), 120)  # running, not yet due at 17:00
    t["T11"] = make_ticket(
        "T11",
        Category.REPORT,
        BJ(11),
        owner=alice,
        party="某台区",
        dispatched_at=BJ(11, 1),
        status=Status.CANCELLED,
        closed_at=BJ(12),
    )
    make_timer(
        t["T11"], "reply", BJ(11), 10 * 24 * 60, stopped=BJ(12)
    )  # stopped by the cancellation
    t["T12"] = make_ticket(
        "T12",
        Category.REPAIR,
        BJ(10, day=3),
        owner=alice,
        area_type="urban",
        feeder="F1",
        dispatched_at=BJ(10, 30, day=3),
        status=Status.DISPATCHED,
    )
    return d
