"""Return visits (回访): the window as a timer, the queue, verdicts, retries, outages and
masters visited once, who may open the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from order_cast import take_order
from outage_cast import fault

from outages import services as outage_services
from servicedesk.errors import DomainError, NotAllowed
from sla.checker import sla_check
from sla.models import Breach, Timer, TimerName
from tickets import services as ticket_services
from tickets.intake import TicketDraft
from tickets.models import Status, TicketEvent
from visits import selectors, services
from visits.models import Visit, VisitAttempt, VisitPolicy, VisitStatus

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def _resolved_repair(actor, customer, unit, *, at=T0, description="停电"):
    ticket = take_order(
        actor=actor,
        category="repair",
        caller_phone="13800000001",
        description=description,
        customer=customer,
        dispatch=True,
        handling_unit=unit,
        now=at,
    )
    ticket = ticket_services.ticket_record_arrival(
        ticket=ticket, actor=actor, now=at + timedelta(minutes=20)
    )
    ticket = ticket_services.ticket_resolve(
        ticket=ticket, actor=actor, work_done="更换保险", now=at + timedelta(minutes=50)
    )
    # The crew's result is handed back (回单); the owning agent's check resolves it.
    return ticket_services.ticket_check_accept(
        ticket=ticket, actor=actor, now=at + timedelta(minutes=50)
    )


def _visit_timer(ticket):
    return Timer.objects.filter(ticket=ticket, name=TimerName.VISIT).order_by("-pk").first()


# --- The window is a timer ------------------------------------------------------------------


def test_resolving_an_order_starts_its_visit_clock_of_24_hours(
    alice_actor, urban_customer, urban_crew
):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    timer = _visit_timer(ticket)
    assert timer.is_running
    assert timer.due_at == ticket.resolved_at + timedelta(hours=24)
    assert TimerName.VISIT in ticket.deadlines


def test_the_visit_stops_the_clock(alice, alice_actor, urban_customer, urban_crew):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    services.visit_record(
        ticket=ticket, actor=alice_actor, satisfaction="satisfied", now=T0 + timedelta(hours=3)
    )
    timer = _visit_timer(ticket)
    assert timer.stopped_at == T0 + timedelta(hours=3)
    assert timer.breached_at is None
    ticket.refresh_from_db()
    assert ticket.status == Status.VISITED
    assert TimerName.VISIT not in ticket.deadlines


def test_the_scanner_records_the_visit_window_breach_once(alice_actor, urban_customer, urban_crew):
    with time_machine.travel(T0, tick=False):
        ticket = _resolved_repair(alice_actor, urban_customer, urban_crew, at=T0)
    resolved_at = T0 + timedelta(minutes=50)
    with time_machine.travel(resolved_at + timedelta(hours=23, minutes=59), tick=False):
        sla_check(now=timezone.now())
        assert not Breach.objects.filter(ticket=ticket, name=TimerName.VISIT).exists()
    with time_machine.travel(resolved_at + timedelta(hours=24, seconds=1), tick=False):
        sla_check(now=timezone.now())
        sla_check(now=timezone.now())
    breach = Breach.objects.get(ticket=ticket, name=TimerName.VISIT)
    assert breach.occurred_at == resolved_at + timedelta(hours=24)
    ticket.refresh_from_db()
    assert ticket.breached and ticket.supervised
    # Still in the queue, marked overdue; the late visit still counts.
    queue = selectors.visit_queue()
    assert [i.ticket.pk for i in queue.items] == [ticket.pk]
    assert queue.items[0].breached


# --- The queue ------------------------------------------------------------------------------


def test_the_queue_lists_the_nearest_visit_deadline_first(alice_actor, urban_customer, urban_crew):
    later = _resolved_repair(alice_actor, urban_customer, urban_crew, at=T0 + timedelta(hours=2))
    sooner = _resolved_repair(alice_actor, urban_customer, urban_crew, at=T0)
    open_order = take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13800000001",
        description="x",
        customer=urban_customer,
        dispatch=True,
        handling_unit=urban_crew,
        now=T0,
    )
    numbers = [i.ticket.number for i in selectors.visit_queue().items]
    assert numbers == [sooner.number, later.number]
    assert open_order.number not in numbers


def test_the_queue_page_runs_the_same_queries_for_one_or_many(
    client, alice, alice_actor, urban_customer, urban_crew, django_assert_num_queries
):
    client.force_login(alice)
    _resolved_repair(alice_actor, urban_customer, urban_crew)
    client.get(reverse("visits:queue"))  # warm the session and the rule cache
    with django_assert_num_queries(7) as one:
        page = client.get(reverse("visits:queue"))
    assert page.status_code == 200
    for i in range(5):
        _resolved_repair(alice_actor, urban_customer, urban_crew, at=T0 + timedelta(minutes=i))
    outage = _ended_outage(alice_actor, urban_customer, calls=2)
    with django_assert_num_queries(len(one.captured_queries)):
        page = client.get(reverse("visits:queue"))
    body = page.content.decode()
    assert body.count('class="visit-row') == 7
    assert body.count(outage.number) == 2  # its label and its link, once in the list


# --- Verdicts -------------------------------------------------------------------------------


def test_a_dissatisfied_visit_reopens_the_order_to_its_unit_with_its_reason(
    alice_actor, urban_customer, urban_crew
):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    visit = services.visit_record(
        ticket=ticket,
        actor=alice_actor,
        satisfaction="dissatisfied",
        reason="not-fixed",
        note="还是没电",
        now=T0 + timedelta(hours=2),
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.DISPATCHED
    assert ticket.handling_unit == urban_crew
    assert ticket.reopen_count == 1
    assert visit.reason.code == "not-fixed" and visit.handling_unit == urban_crew
    event = TicketEvent.objects.filter(ticket=ticket, action="visit").get()
    assert event.data["reason"] == "not-fixed"
    assert _visit_timer(ticket).stopped_at is not None
    # Once resolved again it is due for a new visit.
    ticket = ticket_services.ticket_record_arrival(
        ticket=ticket, actor=alice_actor, now=T0 + timedelta(hours=3)
    )
    ticket = ticket_services.ticket_resolve(
        ticket=ticket, actor=alice_actor, now=T0 + timedelta(hours=4)
    )
    ticket = ticket_services.ticket_check_accept(
        ticket=ticket, actor=alice_actor, now=T0 + timedelta(hours=4)
    )
    assert _visit_timer(ticket).is_running


def test_an_unknown_reason_is_refused_and_changes_nothing(alice_actor, urban_customer, urban_crew):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    with pytest.raises(DomainError) as refused:
        services.visit_record(
            ticket=ticket, actor=alice_actor, satisfaction="dissatisfied", reason="weather"
        )
    assert "reason" in refused.value.field_errors
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and not Visit.objects.exists()


def test_the_page_asks_why_the_customer_is_dissatisfied(
    client, alice, alice_actor, urban_customer, urban_crew
):
    client.force_login(alice)
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    url = reverse("visits:ticket", args=[ticket.number])
    page = client.post(url, {"satisfaction": "dissatisfied", "outcome": "record"})
    assert page.status_code == 400
    assert "reason" in page.context["form"].errors
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    page = client.post(url, {"satisfaction": "neutral", "outcome": "record"})
    assert page.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.VISITED and ticket.satisfaction == "neutral"


# --- Could not reach ------------------------------------------------------------------------


def test_unreached_calls_are_retried_after_the_interval_then_closed_as_unreachable(
    alice_actor, urban_customer, urban_crew
):
    VisitPolicy.objects.update(max_attempts=3, retry_minutes=60)
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    t = T0 + timedelta(hours=1)
    visit = services.visit_attempt_unreached(ticket=ticket, actor=alice_actor, now=t)
    assert visit.attempts == 1 and visit.next_attempt_at == t + timedelta(minutes=60)
    with pytest.raises(DomainError):
        services.visit_attempt_unreached(
            ticket=ticket, actor=alice_actor, now=t + timedelta(minutes=59)
        )
    services.visit_attempt_unreached(
        ticket=ticket, actor=alice_actor, now=t + timedelta(minutes=60)
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED  # still waiting for the third call
    visit = services.visit_attempt_unreached(
        ticket=ticket, actor=alice_actor, now=t + timedelta(minutes=120)
    )
    assert visit.status == VisitStatus.UNREACHABLE
    assert VisitAttempt.objects.filter(visit=visit).count() == 3
    ticket.refresh_from_db()
    assert ticket.status == Status.VISITED and ticket.satisfaction == ""
    assert _visit_timer(ticket).stopped_at == t + timedelta(minutes=120)
    assert selectors.visit_queue().items == []


def test_a_customer_reached_at_the_second_call_is_visited_normally(
    alice_actor, urban_customer, urban_crew
):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    services.visit_attempt_unreached(ticket=ticket, actor=alice_actor, now=T0 + timedelta(hours=1))
    visit = services.visit_record(
        ticket=ticket, actor=alice_actor, satisfaction="satisfied", now=T0 + timedelta(hours=4)
    )
    assert visit.status == VisitStatus.DONE and visit.attempts == 1
    assert Visit.objects.count() == 1


# --- Visited once: outages and masters -------------------------------------------------------


def _ended_outage(actor, customer, *, calls=3):
    now = timezone.now()
    outage = outage_services.outage_register(
        draft=fault(
            service_areas=[customer.service_area],
            starts_at=now - timedelta(hours=1),
            confirmed_at=now - timedelta(minutes=50),
            expected_restoration_at=now + timedelta(hours=2),
        ),
        actor=actor,
    )
    for _ in range(calls):
        ticket_services.ticket_create_for_outage(
            outage=outage,
            draft=TicketDraft(
                category="repair", caller_phone="13800000001", description="没电", customer=customer
            ),
            actor=actor,
        )
    ticket_services.tickets_resolve_for_outage(outage=outage, actor=actor)
    outage.refresh_from_db()
    return outage


def test_an_outage_is_listed_once_and_its_visit_records_every_order(
    alice_actor, urban_customer, urban_crew
):
    outage = _ended_outage(alice_actor, urban_customer, calls=3)
    items = selectors.visit_queue().items
    assert [(i.outage.pk, i.orders_covered) for i in items] == [(outage.pk, 3)]
    with pytest.raises(NotAllowed):
        services.visit_record(
            ticket=outage.tickets.first(), actor=alice_actor, satisfaction="satisfied"
        )
    visit = services.visit_record_for_outage(
        outage=outage, actor=alice_actor, satisfaction="dissatisfied", reason="arrival-time"
    )
    assert visit.orders_covered == 3
    assert set(outage.tickets.values_list("status", "satisfaction")) == {
        (Status.VISITED, "dissatisfied")
    }
    assert TicketEvent.objects.filter(ticket__outage=outage, action="visit").count() == 3
    assert Visit.objects.filter(outage=outage).count() == 1
    assert selectors.visit_queue().items == []
    with pytest.raises(NotAllowed):
        services.visit_record_for_outage(outage=outage, actor=alice_actor, satisfaction="satisfied")


def test_a_master_order_is_visited_once_for_its_children(alice_actor, urban_customer, urban_crew):
    master = take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13800000001",
        description="停电",
        customer=urban_customer,
        dispatch=True,
        handling_unit=urban_crew,
        now=T0,
    )
    children = []
    for _ in range(2):
        child = take_order(
            actor=alice_actor,
            category="repair",
            caller_phone="13800000002",
            description="也停电",
            customer=urban_customer,
            now=T0,
        )
        children.append(
            ticket_services.ticket_merge(ticket=child, actor=alice_actor, master=master, now=T0)
        )
    master = ticket_services.ticket_record_arrival(
        ticket=master, actor=alice_actor, now=T0 + timedelta(minutes=20)
    )
    master = ticket_services.ticket_resolve(
        ticket=master, actor=alice_actor, now=T0 + timedelta(minutes=40)
    )
    master = ticket_services.ticket_check_accept(
        ticket=master, actor=alice_actor, now=T0 + timedelta(minutes=40)
    )
    items = selectors.visit_queue().items
    assert [(i.ticket.pk, i.orders_covered) for i in items] == [(master.pk, 3)]
    with pytest.raises(NotAllowed):
        services.visit_record(ticket=children[0], actor=alice_actor, satisfaction="satisfied")
    visit = services.visit_record(ticket=master, actor=alice_actor, satisfaction="satisfied")
    assert visit.orders_covered == 3
    assert Visit.objects.count() == 1


# --- The report's per-unit counts -----------------------------------------------------------


def test_visits_are_counted_per_unit(alice_actor, urban_customer, urban_crew):
    VisitPolicy.objects.update(max_attempts=1)
    a = _resolved_repair(alice_actor, urban_customer, urban_crew)
    b = _resolved_repair(alice_actor, urban_customer, urban_crew)
    c = _resolved_repair(alice_actor, urban_customer, urban_crew)
    services.visit_record(
        ticket=a,
        actor=alice_actor,
        satisfaction="dissatisfied",
        reason="attitude",
        now=T0 + timedelta(hours=2),
    )
    services.visit_record(
        ticket=b, actor=alice_actor, satisfaction="satisfied", now=T0 + timedelta(hours=2)
    )
    services.visit_attempt_unreached(ticket=c, actor=alice_actor, now=T0 + timedelta(hours=2))
    rows = selectors.visit_counts_by_unit(start=T0, end=T0 + timedelta(days=1))
    assert rows == [
        {
            "handling_unit_id": urban_crew.pk,
            "handling_unit__name": urban_crew.name,
            "visited": 2,
            "dissatisfied": 1,
            "unreachable": 1,
        }
    ]


# --- Who may open the pages -------------------------------------------------------------------


def test_crews_may_not_open_the_visit_pages(client, bob, alice_actor, urban_customer, urban_crew):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    client.force_login(bob)
    assert client.get(reverse("visits:queue")).status_code == 403
    assert client.get(reverse("visits:ticket", args=[ticket.number])).status_code == 403


def test_supervisors_open_the_queue_and_an_unknown_order_is_404(client, dave):
    client.force_login(dave)
    assert client.get(reverse("visits:queue")).status_code == 200
    assert client.get(reverse("visits:ticket", args=["20260101000000099"])).status_code == 404


def test_the_order_api_visit_takes_the_reason_code(
    client, api_client, alice_actor, urban_customer, urban_crew
):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    url = reverse("api_v1:ticket-visit", args=[ticket.number])
    bad = client.post(
        url,
        {"satisfaction": "dissatisfied", "reason": "weather"},
        content_type="application/json",
        **api_client.headers,
    )
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["reason"]
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    ok = client.post(
        url,
        {"satisfaction": "dissatisfied", "reason": "repair-quality"},
        content_type="application/json",
        **api_client.headers,
    )
    assert ok.status_code == 200 and ok.json()["status"] == "dispatched"
    assert Visit.objects.get(ticket=ticket).reason.code == "repair-quality"


# --- The pages ------------------------------------------------------------------------------


def test_the_outage_page_records_its_one_visit_for_every_order(
    client, alice, alice_actor, urban_customer, urban_crew
):
    outage = _ended_outage(alice_actor, urban_customer, calls=2)
    client.force_login(alice)
    url = reverse("visits:outage", args=[outage.number])
    page = client.get(url)
    assert page.status_code == 200
    assert 'id="orders-covered">2<' in page.content.decode()
    done = client.post(url, {"outcome": "record", "satisfaction": "satisfied"})
    assert done.status_code == 302
    assert set(outage.tickets.values_list("status", flat=True)) == {Status.VISITED}
    again = client.post(url, {"outcome": "record", "satisfaction": "satisfied"})
    assert again.status_code == 409
    assert Visit.objects.filter(outage=outage).count() == 1


def test_the_page_counts_an_unreached_call_and_says_when_to_try_again(
    client, alice, alice_actor, urban_customer, urban_crew
):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    client.force_login(alice)
    url = reverse("visits:ticket", args=[ticket.number])
    first = client.post(url, {"outcome": "unreached", "note": "无人接听"}, follow=True)
    assert first.status_code == 200
    assert "无人接听" not in first.content.decode()  # back on the queue
    row = [i for i in first.context["queue"].items if i.ticket and i.ticket.pk == ticket.pk][0]
    assert row.visit.attempts == 1
    too_soon = client.post(url, {"outcome": "unreached"})
    assert too_soon.status_code == 400
    assert VisitAttempt.objects.filter(visit__ticket=ticket).count() == 1
    page = client.get(url)
    assert "无人接听" in page.content.decode()


def test_an_order_not_resolved_offers_no_visit(
    client, alice, alice_actor, urban_customer, urban_crew
):
    open_order = take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13800000001",
        description="x",
        customer=urban_customer,
        dispatch=True,
        handling_unit=urban_crew,
    )
    client.force_login(alice)
    url = reverse("visits:ticket", args=[open_order.number])
    assert 'id="visit-not-due"' in client.get(url).content.decode()
    refused = client.post(url, {"outcome": "record", "satisfaction": "satisfied"})
    assert refused.status_code == 409
    open_order.refresh_from_db()
    assert open_order.status == Status.DISPATCHED


def test_the_order_page_links_to_its_return_visit_page(
    client, alice, alice_actor, urban_customer, urban_crew
):
    ticket = _resolved_repair(alice_actor, urban_customer, urban_crew)
    client.force_login(alice)
    page = client.get(reverse("tickets:detail", args=[ticket.number]))
    assert reverse("visits:ticket", args=[ticket.number]) in page.content.decode()


def test_the_reasons_are_seeded_and_kept_in_the_admin(client, erin):
    from visits.models import VisitReason

    assert list(VisitReason.objects.values_list("code", flat=True)) == [
        "attitude",
        "repair-quality",
        "arrival-time",
        "not-fixed",
        "other",
    ]
    assert VisitPolicy.current().max_attempts == 3
    client.force_login(erin)
    assert client.get(reverse("admin:visits_visitreason_changelist")).status_code == 200
    assert client.get(reverse("admin:visits_visitpolicy_changelist")).status_code == 200
    assert client.get(reverse("admin:visits_visit_changelist")).status_code == 200
