"""How the SLA engine is run and administered: the beat schedule, the task, the commands,
the admin pages for rules and holidays."""

import os
from datetime import date, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from servicedesk.celery import app
from sla.models import Breach, Holiday, HolidayYear, SlaRule
from sla.tasks import sla_scan_task
from tickets import services
from tickets.intake import TicketDraft

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def test_every_scheduled_beat_entry_names_a_registered_task():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "sla.tasks.sla_scan_task" in scheduled
    assert scheduled <= set(app.tasks)


def test_the_scan_runs_every_five_seconds_by_default():
    if "SLA_SCAN_INTERVAL_SECONDS" in os.environ:
        pytest.skip("SLA_SCAN_INTERVAL_SECONDS is set in this environment")
    assert settings.CELERY_BEAT_SCHEDULE["sla-scan"]["schedule"] == 5.0


def test_the_beat_task_scans_with_the_clock_now(alice_actor, urban_customer):
    services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=datetime(2025, 6, 3, 10, 0, tzinfo=BEIJING),
    )
    with time_machine.travel(datetime(2025, 6, 3, 10, 3, 0, tzinfo=BEIJING), tick=False):
        assert sla_scan_task() == 0
    with time_machine.travel(datetime(2025, 6, 3, 10, 3, 1, tzinfo=BEIJING), tick=False):
        assert sla_scan_task() == 1
    assert Breach.objects.get().occurred_at == datetime(2025, 6, 3, 10, 3, tzinfo=BEIJING)


def test_the_scan_command_runs_one_pass_by_hand(alice_actor, urban_customer):
    services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="停电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        now=datetime(2025, 6, 3, 10, 0, tzinfo=BEIJING),
    )
    out = StringIO()
    with time_machine.travel(datetime(2025, 6, 3, 11, 0, tzinfo=BEIJING), tick=False):
        call_command("sla_scan", stdout=out)
    # Caught up an hour late: still running 30 min after the breach, so level 2 fires too.
    assert out.getvalue().strip() == "breached=1 at_risk=0 escalated=1 followed_up=1"


def test_the_holiday_table_is_seeded_from_the_calendar_package_with_adjusted_working_days():
    assert Holiday.objects.get(day=date(2025, 10, 1)).is_working_day is False
    assert Holiday.objects.get(day=date(2025, 10, 11)).is_working_day is True  # Saturday, 调休
    assert Holiday.objects.get(day=date(2025, 10, 1)).name == "国庆节"
    assert HolidayYear.objects.filter(year=2025).exists()


def test_loading_the_holidays_again_restores_the_package_days_and_changes_nothing_else():
    Holiday.objects.filter(day=date(2025, 10, 1)).delete()
    Holiday.objects.filter(day=date(2025, 10, 11)).update(is_working_day=False)
    Holiday.objects.create(
        day=date(2099, 1, 1), name="元旦"
    )  # an administrator's row the package lacks
    out = StringIO()
    call_command("sla_load_holidays", "--from-year", "2025", "--to-year", "2025", stdout=out)
    assert out.getvalue().strip() == "years=2025 created=1 updated=1"
    assert Holiday.objects.get(day=date(2025, 10, 11)).is_working_day is True
    assert Holiday.objects.filter(day=date(2099, 1, 1)).exists()
    out = StringIO()
    call_command("sla_load_holidays", "--from-year", "2025", "--to-year", "2025", stdout=out)
    assert out.getvalue().strip() == "years=2025 created=0 updated=0"


def test_changing_a_rule_in_the_admin_opens_a_new_version(client, erin):
    client.force_login(erin)
    rule = SlaRule.objects.get(name="arrival", area_type="rural", effective_to__isnull=True)
    url = reverse("admin:sla_slarule_change", args=[rule.pk])
    form = {
        "name": "arrival",
        "category": "repair",
        "subtype": "",
        "area_type": "rural",
        "important": "unknown",
        "amount": "90",
        "unit": "minutes",
        "start_event": "dispatched",
        "stop_event": "arrived",
        "at_risk_share": "0.80",
        "effective_to_0": "",
        "effective_to_1": "",
        "is_active": "on",
        "note": "rural 90 min",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    versions = list(
        SlaRule.objects.filter(name="arrival", area_type="rural").order_by("effective_from")
    )
    assert [v.amount for v in versions] == [85, 90]
    assert versions[0].effective_to == versions[1].effective_from


@pytest.mark.parametrize(
    "model", ["slarule", "holiday", "escalationstep", "timer", "breach", "notification"]
)
def test_the_admin_lists_open_in_a_bounded_number_of_queries(
    client, erin, model, django_assert_max_num_queries
):
    client.force_login(erin)
    with django_assert_max_num_queries(12):
        response = client.get(reverse(f"admin:sla_{model}_changelist"))
    assert response.status_code == 200
