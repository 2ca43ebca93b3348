"""Registering and editing outages: what they cover, the planned-outage notice of 3–7 days
and a supervisor's override, the report to the power authority, the one crew dispatch."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import translation
from outage_cast import bj, fault, planned

from outages import services
from outages.models import Outage, OutageDispatch, OutageEvent
from servicedesk.errors import DomainError, NotAllowed

pytestmark = pytest.mark.django_db

NOW = bj(2025, 6, 3, 10, 2)


def register(draft, actor, **kwargs):
    return services.outage_register(draft=draft, actor=actor, now=NOW, **kwargs)


def test_a_fault_outage_counts_the_customers_it_covers_and_gets_a_number(
    bob_actor, urban_customer, rural_customer
):
    outage = register(fault(), bob_actor)
    assert outage.number == f"TD20250603{outage.pk:06d}"
    assert outage.customers_covered == 1
    assert not outage.affects_important_customers
    assert outage.created_by == bob_actor.user
    # Its feeder belongs to no service area with a crew: dispatched later from its page.
    assert list(OutageEvent.objects.filter(outage=outage).values_list("kind", flat=True)) == [
        "registered"
    ]


def test_customers_are_matched_by_service_area_feeder_or_transformer_area(
    bob_actor, urban_area, urban_customer, rural_customer, remote_customer
):
    by_area = register(fault(feeders=[], service_areas=[urban_area]), bob_actor)
    by_transformer = register(fault(feeders=[], transformer_areas=["rural-1-台区-1"]), bob_actor)
    by_both = register(fault(feeders=["remote-1-10kV-1"], service_areas=[urban_area]), bob_actor)
    assert (by_area.customers_covered, by_transformer.customers_covered) == (1, 1)
    assert by_both.customers_covered == 2


def test_an_outage_covering_an_important_customer_must_be_reported_to_the_authority(
    bob_actor, dave_actor, urban_customer, important_customer
):
    outage = register(fault(), bob_actor)
    assert outage.affects_important_customers and outage.authority_report_due
    assert outage.customers_covered == 2
    reported = services.outage_record_authority_report(
        outage=outage, actor=dave_actor, note="已电话报告能源局", now=NOW + timedelta(minutes=3)
    )
    assert reported.reported_to_authority and not reported.authority_report_due
    assert reported.reported_to_authority_by == dave_actor.user
    assert reported.reported_to_authority_at == NOW + timedelta(minutes=3)
    with pytest.raises(NotAllowed):
        services.outage_record_authority_report(outage=outage, actor=dave_actor, now=NOW)


def test_an_outage_without_important_customers_needs_no_report(bob_actor, urban_customer):
    outage = register(fault(), bob_actor)
    with pytest.raises(NotAllowed):
        services.outage_record_authority_report(outage=outage, actor=bob_actor, now=NOW)


def test_the_outage_is_dispatched_once_to_the_area_crew_whatever_the_calls(
    bob_actor, urban_area, urban_crew, rural_crew
):
    outage = register(fault(feeders=[], service_areas=[urban_area]), bob_actor)
    assert outage.dispatch.unit == urban_crew
    with pytest.raises(NotAllowed):
        services.outage_dispatch(outage=outage, unit=rural_crew, actor=bob_actor, now=NOW)
    assert OutageDispatch.objects.filter(outage=outage).count() == 1


def test_an_outage_with_no_known_crew_is_dispatched_from_its_page(bob_actor, rural_crew):
    outage = register(fault(), bob_actor)
    assert not OutageDispatch.objects.filter(outage=outage).exists()
    dispatch = services.outage_dispatch(outage=outage, unit=rural_crew, actor=bob_actor, now=NOW)
    assert dispatch.unit == rural_crew and dispatch.actor == bob_actor.user


def test_what_is_missing_or_wrong_is_refused_with_a_message_per_field(bob_actor):
    with pytest.raises(DomainError) as refused:
        register(
            fault(
                title=" ",
                feeders=[],
                confirmed_at=None,
                expected_restoration_at=bj(2025, 6, 3, 9, 0),
                number="TD 1/2",
            ),
            bob_actor,
        )
    assert set(refused.value.field_errors) == {
        "title",
        "service_areas",
        "confirmed_at",
        "expected_restoration_at",
        "number",
    }
    assert Outage.objects.count() == 0


def test_an_expected_restoration_already_past_is_refused(bob_actor):
    with translation.override("en"), pytest.raises(DomainError) as refused:
        register(fault(expected_restoration_at=bj(2025, 6, 3, 10, 1)), bob_actor)
    assert "already passed" in refused.value.field_errors["expected_restoration_at"][0]


@pytest.mark.parametrize("days", [3, 5, 7])
def test_a_planned_outage_announced_3_to_7_days_ahead_is_taken(bob_actor, days):
    start = bj(2025, 6, 10, 8, 0)
    outage = register(planned(starts_at=start, notice_at=start - timedelta(days=days)), bob_actor)
    assert outage.kind == "planned" and not outage.notice_override_at


@pytest.mark.parametrize(
    ("lead", "said"),
    [(timedelta(days=2), "2 days 0 h 0 min"), (timedelta(days=7, minutes=1), "7 days 0 h 1 min")],
)
def test_a_planned_outage_announced_too_late_or_too_early_is_refused_on_the_notice(
    bob_actor, lead, said
):
    start = bj(2025, 6, 10, 8, 0)
    with translation.override("en"), pytest.raises(DomainError) as refused:
        register(planned(starts_at=start, notice_at=start - lead), bob_actor)
    (message,) = refused.value.field_errors["notice_at"]
    assert message == (
        "A planned outage must be announced 3 to 7 days before it starts; this notice is "
        f"{said} ahead. A supervisor may let it through with a reason."
    )
    assert Outage.objects.count() == 0


def test_an_announcement_after_the_start_is_refused(bob_actor):
    with translation.override("en"), pytest.raises(DomainError) as refused:
        register(planned(notice_at=bj(2025, 6, 10, 9, 0)), bob_actor)
    assert refused.value.field_errors["notice_at"] == [
        "The announcement must come before the outage starts."
    ]


def test_a_planned_outage_without_its_announcement_is_refused(bob_actor):
    with pytest.raises(DomainError) as refused:
        register(planned(notice_at=None), bob_actor)
    assert "notice_at" in refused.value.field_errors


def test_only_a_supervisor_may_override_the_notice_period(bob_actor, dave_actor):
    short = planned(notice_at=bj(2025, 6, 8, 8, 0))
    with pytest.raises(DomainError) as refused:
        register(short, bob_actor, notice_override_reason="抢修需要")
    assert set(refused.value.field_errors) == {"notice_at", "notice_override_reason"}
    outage = register(short, dave_actor, notice_override_reason="配合市政施工，经领导批准")
    assert outage.notice_override_by == dave_actor.user
    assert outage.notice_override_at == NOW
    assert outage.notice_override_reason == "配合市政施工，经领导批准"
    event = OutageEvent.objects.get(outage=outage, kind="notice_override")
    assert event.actor == dave_actor.user and event.note == "配合市政施工，经领导批准"


def test_an_edit_that_moves_a_planned_outage_too_close_is_refused(bob_actor):
    outage = register(planned(), bob_actor)
    with pytest.raises(DomainError) as refused:
        services.outage_update(
            outage=outage,
            draft=planned(notice_at=bj(2025, 6, 9, 8, 0)),
            actor=bob_actor,
            now=NOW,
        )
    assert "notice_at" in refused.value.field_errors
    outage.refresh_from_db()
    assert outage.notice_at == bj(2025, 6, 5, 9, 0)


def test_an_edit_recounts_the_coverage_and_the_authority_report(
    bob_actor, urban_area, urban_customer, important_customer
):
    outage = register(fault(feeders=["elsewhere"]), bob_actor)
    assert outage.customers_covered == 0 and not outage.affects_important_customers
    edited = services.outage_update(
        outage=outage, draft=fault(service_areas=[urban_area]), actor=bob_actor, now=NOW
    )
    assert edited.customers_covered == 2 and edited.authority_report_due
    assert list(edited.service_areas.all()) == [urban_area]


def test_an_outage_that_is_over_cannot_be_edited(bob_actor):
    outage = register(fault(), bob_actor)
    services.outage_end(outage=outage, actor=bob_actor, now=NOW + timedelta(minutes=5))
    with pytest.raises(NotAllowed):
        services.outage_update(outage=outage, draft=fault(), actor=bob_actor, now=NOW)


def test_ending_records_who_when_and_queues_one_return_visit(bob_actor):
    outage = register(fault(), bob_actor)
    with time_machine.travel(bj(2025, 6, 3, 11, 0), tick=False):
        ended = services.outage_end(
            outage=outage, actor=bob_actor, restored_at=bj(2025, 6, 3, 10, 58)
        )
    assert ended.restored_at == bj(2025, 6, 3, 10, 58)
    assert ended.restoration_recorded_at == bj(2025, 6, 3, 11, 0)
    assert ended.restoration_recorded_by == bob_actor.user
    assert ended.visit_due_at == bj(2025, 6, 4, 11, 0)
    with pytest.raises(NotAllowed):
        services.outage_end(outage=outage, actor=bob_actor, now=NOW)


def test_power_cannot_be_back_in_the_future_or_before_the_start(bob_actor):
    outage = register(fault(), bob_actor)
    for when in (NOW + timedelta(minutes=1), bj(2025, 6, 3, 9, 0)):
        with pytest.raises(DomainError) as refused:
            services.outage_end(outage=outage, actor=bob_actor, restored_at=when, now=NOW)
        assert "restored_at" in refused.value.field_errors
