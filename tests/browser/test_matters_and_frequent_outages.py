"""Important service matters and frequent outages in a real headless Chromium: a supervisor
files a matter (refused first without a service area, with the message on the field), and
the agent taking a call from that area reads its script on the caller's card, next to the
frequent-outage badge of a customer with four outages in the window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from playwright.sync_api import expect

from matters.models import ImportantMatter
from matters.services import MatterDraft, matter_file
from outages.models import Outage
from servicedesk.actors import Actor
from servicedesk.errors import DomainError
from tickets import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "您好，因营销系统升级，今明两天暂停线上缴费，期间不会因此停电或产生违约金。"


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_a_supervisor_files_a_matter_and_the_agent_reads_its_script_on_the_callers_card(
    page, login, dave, alice, urban_customer, urban_area, shot
):
    now = timezone.localtime().replace(second=0, microsecond=0)
    for n in range(4):
        Outage.objects.create(
            number=f"TD-B{n}",
            kind="fault",
            title="台区低压故障",
            starts_at=now - timedelta(days=10 * n + 1),
            restored_at=now - timedelta(days=10 * n + 1) + timedelta(hours=2),
            transformer_areas=[urban_customer.transformer_area],
        )
    with translation.override("zh-hans"), pytest.raises(DomainError) as refusal:
        matter_file(
            draft=MatterDraft(title="x", script="x", valid_from=now, valid_to=now + timedelta(1)),
            actor=Actor(user=dave),
        )
    (message,) = refusal.value.field_errors["service_areas"]

    login(page, dave)
    page.goto("/matters/new/")
    page.fill("#id_title", "营销系统升级暂停线上缴费")
    page.fill("#id_script", SCRIPT)
    page.fill("#id_valid_from", _local(now - timedelta(hours=1)))
    page.fill("#id_valid_to", _local(now + timedelta(days=2)))
    page.click("#save-matter")
    expect(page.locator("#err-service_areas")).to_have_text(message)
    assert not ImportantMatter.objects.exists()
    shot(page, "refused")

    page.get_by_label(urban_area.name).check()
    page.click("#save-matter")
    expect(page.locator("#matters-in-force")).to_contain_text("营销系统升级暂停线上缴费")
    assert ImportantMatter.objects.get().filed_by == dave

    page.context.clear_cookies()
    login(page, alice)
    services.call_event_handle(
        call_id="SW-MATTER",
        event="ring",
        at=timezone.now(),
        caller_phone="13800000001",
        agent_username="alice",
    )
    card = page.locator("#matters-in-force")
    expect(card).to_contain_text(SCRIPT)
    badge = page.locator("#frequent-outage-badge")
    expect(badge).to_have_attribute("data-count", "4")
    expect(badge).to_have_class("badge frequent-outage frequent")
    shot(page)
