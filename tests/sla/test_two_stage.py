"""Two-stage limits: do it, then reply on the order (欠费复电: reconnect within 24 h, then
reply within 1 working day) — two rules of one sub-type, driven by the order's events."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from order_cast import take_order

from sla.checker import sla_check
from sla.models import Breach, SlaRule, Timer
from sla.selectors import deadlines_for, rules_cache_clear
from sla.services.rules import sla_rule_revise
from tickets import services
from tickets.models import SubType

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language_after():
    # A request in English leaves English active in this thread (LocaleMiddleware): put
    # the default back, so the tests after this one see Chinese as they expect.
    yield
    translation.deactivate()


def bj(month, day, hour=0, minute=0):
    return datetime(2025, month, day, hour, minute, tzinfo=BEIJING)


def _stages(code="app-reconnect"):
    rules = SlaRule.objects.filter(subtype__code=code, effective_to__isnull=True)
    return rules.get(name="handling"), rules.get(name="reply")


def _switch_on(*rules, now):
    for rule in rules:
        sla_rule_revise(rule=rule, changes={"is_active": True}, now=now)
    rules_cache_clear()


def _reconnect(actor, customer):
    """A reconnection after arrears (欠费复电), taken and sent on at once."""
    return take_order(
        actor=actor,
        category="application",
        subtype=SubType.objects.get(code="app-reconnect"),
        caller_phone="13800000001",
        description="已缴清欠费，请求复电",
        customer=customer,
        dispatch=True,
    )


def _hand_back(ticket, member, *, at, **result):
    """The unit hands its result back (回单): the ticket service emits `handed_back`."""
    with time_machine.travel(at, tick=False):
        return services.ticket_handback(ticket=ticket, actor=member, **result)


def _check(ticket, agent, *, at):
    """The owning agent accepts the handed-back result (回单审核): it emits `checked`."""
    with time_machine.travel(at, tick=False):
        return services.ticket_check_accept(ticket=ticket, actor=agent)


def _acknowledge(ticket, member, *, at):
    with time_machine.travel(at, tick=False):
        return services.ticket_acknowledge(ticket=ticket, actor=member)


def test_the_reconnection_example_is_seeded_switched_off(
    alice_actor, urban_customer, service_department
):
    handling, reply = _stages()
    assert (handling.amount, handling.unit, handling.start_event, handling.stop_event) == (
        24,
        "hours",
        "dispatched",
        "handed_back",
    )
    assert (reply.amount, reply.unit, reply.start_event, reply.stop_event) == (
        1,
        "working_days",
        "handed_back",
        "checked",
    )
    assert not handling.is_active and not reply.is_active
    with time_machine.travel(bj(6, 3, 10), tick=False):
        ticket = _reconnect(alice_actor, urban_customer)
    assert deadlines_for(ticket) == {}  # dispatched at once, and no clock of its own


def test_stage_one_runs_from_dispatch_and_stage_two_from_the_hand_back(
    alice_actor, carol, urban_customer, service_department
):
    _switch_on(*_stages(), now=bj(1, 1))
    member = services.Actor(user=carol)  # of the department that receives it
    with time_machine.travel(bj(6, 3, 10), tick=False):  # Tuesday
        ticket = _reconnect(alice_actor, urban_customer)
    assert ticket.handling_unit == service_department
    assert deadlines_for(ticket) == {"handling": bj(6, 4, 10)}  # 24 h
    ticket = _acknowledge(ticket, member, at=bj(6, 3, 11))
    assert deadlines_for(ticket) == {"handling": bj(6, 4, 10)}

    ticket = _hand_back(ticket, member, at=bj(6, 4, 8), work_done="已复电")
    assert deadlines_for(ticket) == {"reply": bj(6, 5, 8)}  # 1 working day
    handling = Timer.objects.get(ticket=ticket, name="handling")
    assert handling.stopped_at == bj(6, 4, 8) and handling.breached_at is None

    ticket = _check(ticket, alice_actor, at=bj(6, 4, 15))
    assert not {"handling", "reply"} & set(deadlines_for(ticket))
    assert Timer.objects.get(ticket=ticket, name="reply").stopped_at == bj(6, 4, 15)
    assert not Breach.objects.filter(ticket=ticket).exists()


def test_each_stage_breaches_on_its_own(alice_actor, carol, urban_customer):
    _switch_on(*_stages(), now=bj(1, 1))
    member = services.Actor(user=carol)
    with time_machine.travel(bj(6, 6, 10), tick=False):  # Friday
        ticket = _reconnect(alice_actor, urban_customer)
    ticket = _acknowledge(ticket, member, at=bj(6, 6, 11))
    with time_machine.travel(bj(6, 7, 10, 1), tick=False):  # Saturday: 24 h have passed
        sla_check(now=bj(6, 7, 10, 1))
    assert list(Breach.objects.filter(ticket=ticket).values_list("name", flat=True)) == ["handling"]
    # Handed back on a Saturday: the one working day is Monday, due at its end.
    ticket = _hand_back(ticket, member, at=bj(6, 7, 11), work_done="已复电")
    assert deadlines_for(ticket) == {"reply": bj(6, 10, 0)}
    with time_machine.travel(bj(6, 10, 0, 1), tick=False):
        sla_check(now=bj(6, 10, 0, 1))
    assert sorted(Breach.objects.filter(ticket=ticket).values_list("name", flat=True)) == [
        "handling",
        "reply",
    ]


def test_a_sub_type_s_second_stage_replaces_the_category_s_reply_clock(
    alice_actor, carol, urban_customer
):
    """Complaints: answered in 5 days from acceptance, except the sub-type with a two-stage
    limit, whose reply clock starts at the hand-back instead (the most specific rule wins
    before its start event is looked at)."""
    billing = SubType.objects.get(code="complaint-billing")
    common = {"category": "complaint", "subtype": billing, "effective_from": bj(1, 1)}
    SlaRule.objects.create(
        name="handling", amount=1, unit="calendar_days", start_event="dispatched",
        stop_event="handed_back", **common,
    )  # fmt: skip
    SlaRule.objects.create(
        name="reply", amount=2, unit="calendar_days", start_event="handed_back",
        stop_event="checked", **common,
    )  # fmt: skip
    rules_cache_clear()

    def complaint(subtype):
        return take_order(
            actor=alice_actor,
            category="complaint",
            subtype=subtype,
            caller_phone="13800000001",
            description="电费算错了",
            party="电费班",
            customer=urban_customer,
            dispatch=True,
        )

    with time_machine.travel(bj(6, 3, 10), tick=False):
        two_stage = complaint(billing)
        plain = complaint(SubType.objects.get(code="complaint-conduct"))
    assert deadlines_for(two_stage) == {"handling": bj(6, 4, 10)}
    assert deadlines_for(plain) == {"reply": bj(6, 8, 10)}

    # A complaint's hand-back records its reply in the same move (`replied`, then
    # `handed_back`): the second stage, stopped by the centre's check, starts after both.
    member = services.Actor(user=carol)
    two_stage = _hand_back(two_stage, member, at=bj(6, 3, 16), reply="已核实，电费已更正")
    assert deadlines_for(two_stage) == {"reply": bj(6, 5, 16)}
    two_stage = _check(two_stage, alice_actor, at=bj(6, 4, 9))
    assert not {"handling", "reply"} & set(deadlines_for(two_stage))
    assert deadlines_for(plain) == {"reply": bj(6, 8, 10)}  # untouched


# --- The rules' checks ---------------------------------------------------------------------


def _rule(**fields) -> SlaRule:
    values = {
        "name": "reply",
        "category": "application",
        "subtype": SubType.objects.get(code="app-new"),
        "amount": 1,
        "unit": "working_days",
        "start_event": "handed_back",
        "stop_event": "checked",
        "effective_from": bj(1, 1),
    }
    values.update(fields)
    return SlaRule(**values)


def test_a_second_stage_without_its_first_is_refused_with_what_to_add(db):
    with pytest.raises(ValidationError) as error:
        _rule().full_clean()
    assert "请先添加并启用第一段" in error.value.message_dict["start_event"][0]
    # Switched off, it can wait for its first stage.
    _rule(is_active=False).full_clean()


def test_a_second_stage_is_accepted_once_its_first_stage_is_on(db):
    _rule(name="handling", start_event="dispatched", stop_event="handed_back", unit="hours").save()
    _rule().full_clean()
    # Another sub-type's first stage does not count.
    with pytest.raises(ValidationError):
        _rule(subtype=SubType.objects.get(code="app-increase")).full_clean()


def test_the_first_stage_stops_at_the_hand_back_and_stays_on_while_the_second_is_on(db):
    with pytest.raises(ValidationError) as error:
        _rule(name="handling", start_event="dispatched", stop_event="resolved").full_clean()
    assert "处理单位回单时停止计时" in error.value.message_dict["stop_event"][0]

    first = _rule(name="handling", start_event="dispatched", stop_event="handed_back")
    first.save()
    _rule().save()
    first.is_active = False
    with pytest.raises(ValidationError) as error:
        first.full_clean()
    assert "请先停用第二段" in error.value.message_dict["is_active"][0]


def test_the_admin_refuses_switching_on_the_second_stage_before_the_first(erin):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(erin)
    _handling, reply = _stages()
    url = f"/admin/sla/slarule/{reply.pk}/change/"
    page = client.get(url)
    form = page.context["adminform"].form
    data = {
        "name": "reply",
        "category": "application",
        "subtype": str(reply.subtype_id),
        "area_type": "",
        "important": "unknown",
        "amount": "1",
        "unit": "working_days",
        "start_event": "handed_back",
        "stop_event": "checked",
        "at_risk_share": "0.80",
        "effective_to_0": "",
        "effective_to_1": "",
        "is_active": "on",
        "note": reply.note,
    }
    assert "effective_from" not in form.fields  # in effect: read-only
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "first stage" in errors["start_event"][0]
    reply.refresh_from_db()
    assert not reply.is_active


def test_a_second_stage_cannot_wait_for_a_reply_already_written_at_the_hand_back(db):
    with pytest.raises(ValidationError) as error:
        _rule(stop_event="replied", is_active=False).full_clean()
    assert "审核通过回单时停止计时" in error.value.message_dict["stop_event"][0]
