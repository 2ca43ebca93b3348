"""Celery tasks of the SLA engine: thin wrappers that call a service with the clock now."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from sla.checker import sla_check
from sla.services.breaches import FOLLOWUP_BATCH
from tickets.services import tickets_breach_followup


@shared_task(name="sla.tasks.sla_scan_task", ignore_result=True)
def sla_scan_task() -> int:
    """One checker pass (beat: every SLA_SCAN_INTERVAL_SECONDS); returns breaches recorded.

    A pass follows up at most one batch of breaches; a larger backlog (a storm after an
    outage of the scanner) is handed to the other workers instead of delaying the next pass.
    """
    result = sla_check(now=timezone.now())
    if result.followed_up >= FOLLOWUP_BATCH:
        sla_followup_task.delay()
    return result.breached


@shared_task(name="sla.tasks.sla_followup_task", ignore_result=True)
def sla_followup_task() -> int:
    """Work through a backlog of breaches not yet followed up on their orders."""
    done = tickets_breach_followup(now=timezone.now(), limit=FOLLOWUP_BATCH)
    if done >= FOLLOWUP_BATCH:
        sla_followup_task.delay()
    return done
