"""SLA timers: started and stopped by the life-cycle events of the tickets services."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def sla_ticket_event(*, ticket: Any, event: str, at: datetime) -> None:
    """Start and stop the order's timers for a life-cycle event (filled in by the SLA engine)."""
    return None
