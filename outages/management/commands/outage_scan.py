"""Run one pass over the outage reporting clocks by hand (the same function Celery beat runs)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from outages.services import outage_timers_scan


class Command(BaseCommand):
    help = "Record the outage reporting limits breached and the escalations due now (one pass)."

    def handle(self, *args, **options) -> None:
        result = outage_timers_scan(now=timezone.now())
        self.stdout.write(f"breached={result.breached} escalated={result.escalated}")
