"""Celery tasks of the outages: thin wrappers that call a service with the clock now."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from outages.services import outage_timers_scan


@shared_task(name="outages.tasks.outage_timers_scan_task", ignore_result=True)
def outage_timers_scan_task() -> int:
    """One pass over the outage reporting clocks (beat: every SLA_SCAN_INTERVAL_SECONDS);
    returns the breaches recorded."""
    return outage_timers_scan(now=timezone.now()).breached
