"""Every allowed and every refused life-cycle move, per category.

The expected moves are written out here by hand from SPEC section 3, independently of
tickets.lifecycle, so a wrong edit of the table fails these tests.
"""

from __future__ import annotations

import pytest

from servicedesk.errors import NotAllowed
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Category, Status, Ticket, TicketEvent

CATEGORIES = list(Category.values)
STATUSES = list(Status.values)
ACTIONS = [
    "dispatch",
    "acknowledge",
    "redispatch",
    "contact",
    "arrive",
    "resolve",
    "reply",
    "handback",
    "accept_check",
    "return_check",
    "visit",
    "archive",
    "cancel",
    "terminate",
]

EVERY = set(CATEGORIES)
OPEN = {"accepted", "dispatched", "acknowledged", "on_site"}
CHECKED_REPLY = {"complaint", "report"}


def _all(categories: set[str], target: str) -> dict[str, str]:
    return dict.fromkeys(categories, target)


# (action, status) -> category -> the state it leads to; a category not listed is refused.
# A unit's result goes to the centre's check (handed_back, 回单) except what the agent closes
# itself: an inquiry (on the call or by callback), a fault guided by phone.
EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("dispatch", "accepted"): _all(EVERY, "dispatched"),
    ("acknowledge", "dispatched"): _all(EVERY, "acknowledged"),
    ("redispatch", "dispatched"): _all(EVERY, "dispatched"),
    ("redispatch", "acknowledged"): _all(EVERY, "dispatched"),
    **{("contact", status): _all(EVERY, status) for status in ("dispatched", "acknowledged")},
    ("contact", "on_site"): _all(EVERY, "on_site"),
    ("arrive", "dispatched"): {"repair": "on_site"},
    ("arrive", "acknowledged"): {"repair": "on_site"},
    ("resolve", "accepted"): {"repair": "resolved", "inquiry": "resolved"},
    ("resolve", "on_site"): {"repair": "handed_back"},
    ("resolve", "acknowledged"): {"application": "handed_back"},
    **{
        ("reply", status): {**_all(CHECKED_REPLY, "handed_back"), "inquiry": "resolved"}
        for status in ("dispatched", "acknowledged")
    },
    ("handback", "on_site"): {"repair": "handed_back"},
    ("handback", "acknowledged"): {
        **_all(CHECKED_REPLY, "handed_back"),
        "application": "handed_back",
    },
    ("handback", "dispatched"): _all(CHECKED_REPLY, "handed_back"),
    ("accept_check", "handed_back"): _all(EVERY, "resolved"),
    # 退单: back to where the unit handed it from (the orders here were acknowledged).
    ("return_check", "handed_back"): {**_all(EVERY, "acknowledged"), "repair": "on_site"},
    ("visit", "resolved"): _all(EVERY, "visited"),
    ("archive", "visited"): _all(EVERY, "archived"),
    ("archive", "resolved"): {"inquiry": "archived"},
    **{("cancel", status): _all(EVERY, "cancelled") for status in OPEN},
    **{("terminate", status): _all(EVERY, "terminated") for status in {*OPEN, "handed_back"}},
}

ARGS = {
    "reply": {"reply": "已核实并答复客户"},
    "handback": {"reply": "已核实并答复客户"},
    "return_check": {"reason": "处理结果未写明原因"},
    "visit": {"satisfaction": "satisfied"},
    "cancel": {"reason": "客户撤销"},
    "terminate": {"reason": "非供电企业产权设备"},
    "redispatch": {"reason": "不属本班组辖区"},
}
SERVICE = {
    "dispatch": services.ticket_dispatch,
    "acknowledge": services.ticket_acknowledge,
    "redispatch": services.ticket_redispatch,
    "contact": services.ticket_record_contact,
    "arrive": services.ticket_record_arrival,
    "resolve": services.ticket_resolve,
    "reply": services.ticket_reply,
    "handback": services.ticket_handback,
    "accept_check": services.ticket_check_accept,
    "return_check": services.ticket_check_return,
    "visit": services.ticket_visit,
    "archive": services.ticket_archive,
    "cancel": services.ticket_cancel,
    "terminate": services.ticket_terminate,
}


def _order_in(status: str, category: str, actor, customer) -> Ticket:
    ticket = services.ticket_create(
        draft=TicketDraft(
            category=category,
            caller_phone="13800000001",
            description="测试工单",
            customer=customer,
            party="某班组" if category in ("complaint", "report") else "",
        ),
        actor=actor,
    )
    # Put the order straight into the state under test; the moves themselves are what is tested.
    acknowledged = status not in ("accepted", "dispatched")
    Ticket.objects.filter(pk=ticket.pk).update(
        status=status,
        handling_unit=customer.service_area.crew,
        acknowledged_at=ticket.created_at if acknowledged else None,
    )
    ticket.refresh_from_db()
    return ticket


CASES = [(c, s, a) for c in CATEGORIES for s in STATUSES for a in ACTIONS]


@pytest.mark.parametrize(("category", "status", "action"), CASES)
def test_each_action_is_allowed_exactly_where_the_rules_say(
    category, status, action, alice_actor, urban_customer, rural_crew
):
    ticket = _order_in(status, category, alice_actor, urban_customer)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    target = EXPECTED.get((action, status), {}).get(category)
    args = ARGS.get(action, {}) | ({"unit": rural_crew} if action == "redispatch" else {})

    if target is not None:
        moved = SERVICE[action](ticket=ticket, actor=alice_actor, **args)
        assert moved.status == target
        assert Ticket.objects.get(pk=ticket.pk).status == target
        event = TicketEvent.objects.filter(ticket=ticket).latest("id")
        assert (event.action, event.from_status, event.to_status) == (action, status, target)
    else:
        with pytest.raises(NotAllowed):
            SERVICE[action](ticket=ticket, actor=alice_actor, **args)
        assert Ticket.objects.get(pk=ticket.pk).status == status
        assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_a_dissatisfied_return_visit_reopens_the_order_and_counts_against_the_handler(
    alice_actor, urban_customer
):
    ticket = _order_in("resolved", "repair", alice_actor, urban_customer)

    reopened = services.ticket_visit(
        ticket=ticket, actor=alice_actor, satisfaction="dissatisfied", note="客户说仍然没电"
    )

    assert reopened.status == Status.DISPATCHED
    assert reopened.reopen_count == 1
    assert reopened.satisfaction == "dissatisfied"


def test_an_inquiry_answered_on_the_call_is_resolved_at_once(alice_actor, urban_customer):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="inquiry",
            caller_phone="13800000001",
            description="电价多少",
            customer=urban_customer,
            answer_on_call=True,
            reply="第一档0.4883元/千瓦时",
        ),
        actor=alice_actor,
    )

    assert ticket.status == Status.RESOLVED
    assert ticket.reply_form == "on_call"
    assert [(e.from_status, e.to_status) for e in ticket.events.all()] == [
        ("", "accepted"),
        ("accepted", "resolved"),
    ]


def test_a_fault_inside_the_customers_installation_is_closed_without_a_crew_and_is_paid(
    alice_actor, urban_customer
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="家里插座没电",
            customer=urban_customer,
            inside_customer_installation=True,
        ),
        actor=alice_actor,
    )

    assert ticket.status == Status.RESOLVED
    assert ticket.handling_unit is None
    assert ticket.asset_owner == "customer" and ticket.is_paid


def test_an_agent_may_override_paid_or_free_with_a_reason(alice_actor, urban_customer):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="表箱损坏",
            customer=urban_customer,
            paid_override_reason="表箱属供电公司资产，免费处理",
            asset_owner="customer",
        ),
        actor=alice_actor,
    )

    assert ticket.is_paid is False
    assert ticket.paid_override_reason


def test_submit_dispatches_a_repair_to_the_crew_of_the_customers_area(alice_actor, rural_customer):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000002",
            description="一户无电",
            customer=rural_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )

    assert ticket.status == Status.DISPATCHED
    assert ticket.handling_unit == rural_customer.service_area.crew
    assert ticket.area_type == "rural" and not ticket.area_type_unconfirmed


def test_a_repair_with_unknown_area_type_is_taken_as_urban_and_flagged(alice_actor, urban_crew):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair", caller_phone="13800000009", description="路灯杆倒了", address="不详"
        ),
        actor=alice_actor,
    )

    assert ticket.area_type == "urban"
    assert ticket.area_type_unconfirmed is True


def test_a_repeat_call_is_a_hastening_and_two_make_the_order_supervised(
    alice_actor, urban_customer
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )

    services.ticket_hasten(ticket=ticket, actor=alice_actor, text="怎么还没来")
    ticket.refresh_from_db()
    assert (ticket.call_count, ticket.supervised) == (2, False)

    services.ticket_hasten(ticket=ticket, actor=alice_actor, text="第三次打电话了")
    ticket.refresh_from_db()
    assert (ticket.call_count, ticket.supervised) == (3, True)
    assert Ticket.objects.count() == 1
    assert list(ticket.events.values_list("kind", flat=True)) == [
        "created",
        "status",
        "hastening",
        "hastening",
        "supervised",
    ]


def test_a_closed_order_cannot_be_hastened(alice_actor, urban_customer):
    ticket = _order_in("archived", "repair", alice_actor, urban_customer)

    with pytest.raises(NotAllowed):
        services.ticket_hasten(ticket=ticket, actor=alice_actor, text="再催一下")
    assert ticket.hastenings.count() == 0


def test_a_second_report_of_the_same_fault_becomes_a_child_of_the_master(
    alice_actor, urban_customer
):
    master = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="电线断了",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )
    child = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13900000000",
            description="同一处电线断了",
            customer=urban_customer,
        ),
        actor=alice_actor,
    )

    merged = services.ticket_merge(ticket=child, actor=alice_actor, master=master)

    assert merged.status == Status.MERGED and merged.master == master
    assert list(master.children.all()) == [merged]


def test_cancelling_needs_a_reason_and_changes_nothing_without_one(alice_actor, urban_customer):
    ticket = _order_in("accepted", "inquiry", alice_actor, urban_customer)

    with pytest.raises(services.DomainError) as refused:
        services.ticket_cancel(ticket=ticket, actor=alice_actor, reason="  ")

    assert "reason" in refused.value.field_errors
    assert Ticket.objects.get(pk=ticket.pk).status == "accepted"


def test_dispatching_a_closed_order_that_no_unit_receives_is_refused_as_not_allowed(
    alice_actor, urban_customer
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="inquiry",
            caller_phone="13800000001",
            description="咨询电价",
            customer=urban_customer,
        ),
        actor=alice_actor,
    )
    Ticket.objects.filter(pk=ticket.pk).update(status="archived")

    with pytest.raises(NotAllowed):
        services.ticket_dispatch(ticket=ticket, actor=alice_actor)
    assert Ticket.objects.get(pk=ticket.pk).status == "archived"


def test_an_order_no_unit_receives_is_refused_with_a_message_on_the_unit_field(
    alice_actor, urban_customer
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="report",
            caller_phone="13800000001",
            description="有人窃电",
            customer=urban_customer,
            party="邻居",
        ),
        actor=alice_actor,
    )

    with pytest.raises(services.DomainError) as refused:
        services.ticket_dispatch(ticket=ticket, actor=alice_actor)
    assert "handling_unit" in refused.value.field_errors
    assert Ticket.objects.get(pk=ticket.pk).status == "accepted"
