"""The outages the outage tests share: drafts as the register form gives them, Beijing times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from outages.services import OutageDraft

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0):
    return datetime(year, month, day, hour, minute, second, tzinfo=BEIJING)


def fault(**fields: Any) -> OutageDraft:
    """A fault outage of the urban area's feeder, confirmed at 10:00, started at 9:58."""
    values: dict[str, Any] = {
        "kind": "fault",
        "title": "10kV城东线故障",
        "starts_at": bj(2025, 6, 3, 9, 58),
        "confirmed_at": bj(2025, 6, 3, 10, 0),
        "expected_restoration_at": bj(2025, 6, 3, 12, 0),
        "cause": "线路故障",
        "feeders": ["urban-1-10kV-1"],
    }
    return OutageDraft(**{**values, **fields})


def planned(**fields: Any) -> OutageDraft:
    values: dict[str, Any] = {
        "kind": "planned",
        "title": "城东10kV线路计划检修",
        "starts_at": bj(2025, 6, 10, 8, 0),
        "expected_restoration_at": bj(2025, 6, 10, 18, 0),
        "notice_at": bj(2025, 6, 5, 9, 0),
        "transformer_areas": ["urban-1-台区-1"],
    }
    return OutageDraft(**{**values, **fields})
