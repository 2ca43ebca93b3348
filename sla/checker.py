"""The SLA checker: what Celery beat runs every few seconds, `manage.py sla_scan` runs by
hand, and tests call.

One pass is the scan (`sla.services.scan`: breaches, at-risk warnings, escalation, on the
SLA engine's own tables), then the follow-up of the breaches it recorded on their orders
(`tickets.services.tickets_breach_followup`: timeline, supervised and breached marks). A
follow-up that fails or is cut short leaves its breaches for the next pass: none is lost.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sla.services.breaches import FOLLOWUP_BATCH
from sla.services.scan import ScanResult, sla_scan
from tickets.services import tickets_breach_followup


def sla_check(*, now: datetime, followup_limit: int | None = None) -> ScanResult:
    """One pass: scan, then follow up at most ``followup_limit`` breaches (a batch by
    default; 0 leaves them all to `sla.tasks.sla_followup_task`)."""
    result = sla_scan(now=now)
    limit = FOLLOWUP_BATCH if followup_limit is None else followup_limit
    followed_up = tickets_breach_followup(now=now, limit=limit) if limit > 0 else 0
    return replace(result, followed_up=followed_up)
