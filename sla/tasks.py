"""Celery tasks of the SLA engine: thin wrappers that call a service with the clock now."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sla import services


@shared_task(name="sla.tasks.sla_scan_task", ignore_result=True)
def sla_scan_task() -> int:
    """One scanner pass (beat: every SLA_SCAN_INTERVAL_SECONDS); returns breaches recorded.

    A pass follows up at most one batch of breaches; a larger backlog (a storm after an
    outage of the scanner) is handed to the other workers instead of delaying the next pass.
    """
    result = services.sla_scan(now=timezone.now())
    if result.followed_up >= services.FOLLOWUP_BATCH:
        sla_followup_task.delay()
    return result.breached


@shared_task(name="sla.tasks.sla_followup_task", ignore_result=True)
def sla_followup_task() -> int:
    """Work through a backlog of breaches not yet followed up (order supervised, e-mail)."""
    done = services.breach_followup(now=timezone.now())
    if done >= services.FOLLOWUP_BATCH:
        sla_followup_task.delay()
    return done
