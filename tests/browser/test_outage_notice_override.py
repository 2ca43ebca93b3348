"""The outage register in a real headless Chromium: a planned outage announced only two days
ahead is refused with the message on its announcement; a supervisor's override with a reason
lets it through, and the override (who, when, why) is on the outage's record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from outages.models import Outage, OutageEvent
from outages.services import OutageDraft, outage_register
from servicedesk.actors import Actor
from servicedesk.errors import DomainError

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_planned_outage_with_two_days_notice_is_refused_and_a_supervisor_overrides_it(
    page, login, dave, bob, shot
):
    now = timezone.localtime().replace(second=0, microsecond=0)
    starts, notice = now + timedelta(days=3), now + timedelta(days=1)
    # The message the service gives in the page's language, for the same times.
    with translation.override("zh-hans"), pytest.raises(DomainError) as refusal:
        outage_register(
            draft=OutageDraft(
                kind="planned",
                title="x",
                starts_at=starts,
                notice_at=notice,
                transformer_areas=["T"],
            ),
            actor=Actor(user=bob),
        )
    (message,) = refusal.value.field_errors["notice_at"]

    login(page, dave)
    page.goto("/outages/new/")
    page.select_option("#id_kind", "planned")
    expect(page.locator("#id_confirmed_at")).to_be_hidden()  # a fault's field
    page.fill("#id_title", "城东10kV3号线计划检修")
    page.fill("#id_cause", "线路改造")
    page.fill("#id_starts_at", _local(starts))
    page.fill("#id_expected_restoration_at", _local(starts + timedelta(hours=8)))
    page.fill("#id_notice_at", _local(notice))
    page.fill("#id_transformer_areas", "城东3号台区\n城东4号台区")
    page.click("#save-outage")

    error = page.locator("#err-notice_at")
    expect(error).to_have_text(message)
    expect(error).to_contain_text("2")
    assert not Outage.objects.exists()
    shot(page, "refused")

    page.fill("#id_notice_override_reason", "配合市政道路施工，经中心主任批准提前两天公告")
    page.click("#save-outage")
    outage = Outage.objects.get()
    expect(page.locator("#outage-number")).to_have_text(outage.number)
    record = page.locator("#notice-override")
    expect(record).to_contain_text("赵伟")
    expect(record).to_contain_text("配合市政道路施工，经中心主任批准提前两天公告")
    assert outage.notice_override_by == dave
    assert outage.notice_override_reason == "配合市政道路施工，经中心主任批准提前两天公告"
    assert outage.notice_override_at is not None
    assert OutageEvent.objects.filter(outage=outage, kind="notice_override").count() == 1
    assert outage.transformer_areas == ["城东3号台区", "城东4号台区"]
    shot(page)
