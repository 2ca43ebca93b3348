"""Celery tasks of the outages: thin wrappers that call a service with the clock now."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from outages.notices import outage_notices_send, outage_notices_sweep
from outages.services import outage_timers_scan


@shared_task(name="outages.tasks.outage_timers_scan_task", ignore_result=True)
def outage_timers_scan_task() -> int:
    """One pass over the outage reporting clocks (beat: every SLA_SCAN_INTERVAL_SECONDS);
    returns the breaches recorded."""
    return outage_timers_scan(now=timezone.now()).breached


@shared_task(
    bind=True, name="outages.tasks.outage_notices_send_task", ignore_result=True, max_retries=None
)
def outage_notices_send_task(self, event_id: int, first_id: int, last_id: int) -> int:
    """Send one batch of an outage event's text messages (ids first_id..last_id); returns
    how many went out. The rows count the rounds (SMS_MAX_ATTEMPTS), so Celery's own retry
    limit is off: a batch whose messages have all failed or gone out is done."""
    result = outage_notices_send(
        event_id=event_id, first_id=first_id, last_id=last_id, now=timezone.now()
    )
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in)
    if result.more:
        outage_notices_send_task.delay(event_id, first_id, last_id)
    return result.sent


@shared_task(name="outages.tasks.outage_notices_sweep_task", ignore_result=True)
def outage_notices_sweep_task() -> int:
    """Queue again the text messages left unsent (beat: every minute); returns the tasks."""
    return outage_notices_sweep(now=timezone.now())
