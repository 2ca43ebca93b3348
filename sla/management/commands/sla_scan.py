"""Run one pass of the SLA scanner by hand (the same function Celery beat runs)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from sla.checker import sla_check


class Command(BaseCommand):
    help = "Record breaches, at-risk warnings and escalations due now (one scanner pass)."

    def handle(self, *args, **options) -> None:
        result = sla_check(now=timezone.now())
        self.stdout.write(
            f"breached={result.breached} at_risk={result.at_risk} escalated={result.escalated} "
            f"followed_up={result.followed_up}"
        )
