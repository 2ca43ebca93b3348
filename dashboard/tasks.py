"""Celery tasks of the dashboard: thin wrappers that call a service with the clock now."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from dashboard import services


@shared_task(name="dashboard.tasks.aggregates_refresh_task", ignore_result=True)
def aggregates_refresh_task() -> int:
    """One refresh pass of the report's per-day aggregates (beat: every minute); returns
    how many day parts (calls or orders of one day) were summed again."""
    result = services.aggregates_refresh(now=timezone.now())
    return len(result.orders_days) + len(result.calls_days)


@shared_task(name="dashboard.tasks.wallboard_counts_task", ignore_result=True)
def wallboard_counts_task() -> int:
    """Count the timers at risk and breached for the wall screens (beat: every 5 s); returns
    how many groups (timer, area type, unit, agent) were counted."""
    return len(services.wallboard_counts_refresh(now=timezone.now()).rows)
