"""The scanner (Celery beat every few seconds, `manage.py sla_scan`, tests, through
`sla.checker.sla_check`): breaches, at-risk warnings and the escalation ladder.

Every write here claims its rows with a conditional UPDATE (SKIP LOCKED on PostgreSQL), so
two scanners running at once never record or notify anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction

from sla.models import EscalationStep, NotificationKind, TimerName
from sla.services.breaches import breaches_record
from sla.services.notifications import notify_at_risk, notify_supervisors
from sla.services.statements import sql_time, tables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanResult:
    """What one pass of the scanner did: counts of new at-risk warnings, breaches, escalations."""

    at_risk: int = 0
    breached: int = 0
    escalated: int = 0
    followed_up: int = 0
    breach_ids: tuple[int, ...] = field(default=(), repr=False)


def _claim(
    *, set_sql: str, set_params: list[Any], where: str, where_params: list[Any], returning: str
) -> list[tuple[Any, ...]]:
    """A conditional UPDATE of the timers matching ``where`` (columns of ``t``), returning rows.

    On PostgreSQL the rows are picked with ``SKIP LOCKED``, the timer row for update and its
    order row for key share: a row another scanner holds is left to it (so two scanners
    never both claim it, and never wait on each other), and a timer whose order a ticket
    service is changing right now is left to that service (which records a late breach
    itself) or to the next pass — the scanner never waits on a lock while holding others,
    so it cannot deadlock with the services. SQLite has one writer at a time anyway.
    """
    t = tables()
    if connection.vendor == "postgresql":
        # The order row is locked inside a LATERAL subquery, so each timer probes its order by
        # primary key: the plan stays a short nested loop even when the planner misjudges how
        # many timers match (a hash join would read every order). ARRAY(...) is computed
        # once, so the UPDATE reaches each timer through the primary key too.
        chosen = (
            f"SELECT t.id FROM {t['timer']} t CROSS JOIN LATERAL ("
            f"SELECT k.id FROM {t['ticket']} k WHERE k.id = t.ticket_id FOR KEY SHARE SKIP LOCKED"
            f") k WHERE {where} FOR NO KEY UPDATE OF t SKIP LOCKED"
        )
        target = f"id = ANY(ARRAY({chosen}))"
    else:
        target = f"id IN (SELECT t.id FROM {t['timer']} t WHERE {where})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {t['timer']} SET {set_sql} WHERE {target} RETURNING {returning}",
            [*set_params, *where_params],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _ladder() -> dict[int, dict[str, timedelta]]:
    """Level (2, 3, ...) → timer name → how long after its breach a still-running timer
    reaches that level. A level is reached only through the ones below it, so the wait is
    the longest of the steps so far; a step for one timer name replaces the general one."""
    steps = {
        (s.name, s.level): s for s in EscalationStep.objects.filter(is_active=True, level__gte=2)
    }
    ladder: dict[int, dict[str, timedelta]] = {}
    for name in TimerName.values:
        waited, level = timedelta(0), 2
        while (step := steps.get((name, level)) or steps.get(("", level))) is not None:
            waited = max(waited, timedelta(minutes=step.after_minutes))
            ladder.setdefault(level, {})[name] = waited
            level += 1
    return ladder


def _by_wait(names: dict[str, timedelta]) -> dict[timedelta, list[str]]:
    groups: dict[timedelta, list[str]] = {}
    for name, wait in names.items():
        groups.setdefault(wait, []).append(name)
    return groups


def _claim_due(*, now: datetime, ladder: dict[int, dict[str, timedelta]]) -> list[tuple[int, int]]:
    """Claim every running timer whose due time has passed; returns (timer id, level).

    The moment of the breach is its due time, however late this pass runs. A pass catching
    up on a breach that is already older than a rung of the ladder sets that level at once
    (one write per timer instead of one per level); the caller notifies every level reached.
    """
    cases, params = [], []
    for level in sorted(ladder, reverse=True):
        for wait, names in _by_wait(ladder[level]).items():
            placeholders = ", ".join("%s" for _n in names)
            cases.append(f"WHEN name IN ({placeholders}) AND due_at <= %s THEN {int(level)}")
            params += [*names, sql_time(now - wait)]
    level_sql = f"CASE {' '.join(cases)} ELSE 1 END" if cases else "1"
    rows = _claim(
        set_sql=f"breached_at = due_at, escalation_level = {level_sql}",
        set_params=params,
        where="t.stopped_at IS NULL AND t.breached_at IS NULL AND t.paused_at IS NULL AND t.due_at < %s",
        where_params=[sql_time(now)],
        returning="id, escalation_level",
    )
    return [(row[0], row[1]) for row in rows]


def _claim_at_risk(*, now: datetime) -> list[tuple[Any, ...]]:
    return _claim(
        set_sql="at_risk_notified_at = %s",
        set_params=[sql_time(now)],
        where=(
            "t.stopped_at IS NULL AND t.at_risk_notified_at IS NULL AND t.breached_at IS NULL"
            " AND t.paused_at IS NULL AND t.at_risk_at <= %s"
        ),
        where_params=[sql_time(now)],
        returning="id, ticket_id, name, owner_id, handling_unit_id",
    )


def _escalate(*, now: datetime, ladder: dict[int, dict[str, timedelta]]) -> int:
    """Climb the ladder: a timer still running long enough after its breach notifies the
    supervisors one unit further up. Each level is claimed with a conditional UPDATE on
    ``escalation_level`` (from the level below), so it fires once per timer."""
    escalated = 0
    for level in sorted(ladder):
        for wait, names in _by_wait(ladder[level]).items():
            placeholders = ", ".join("%s" for _n in names)
            rows = _claim(
                set_sql="escalation_level = %s",
                set_params=[level],
                where=(
                    "t.stopped_at IS NULL AND t.breached_at IS NOT NULL AND t.escalation_level = %s"
                    f" AND t.breached_at <= %s AND t.name IN ({placeholders})"
                ),
                where_params=[level - 1, sql_time(now - wait), *names],
                returning="id",
            )
            if rows:
                notify_supervisors(
                    ids=[row[0] for row in rows],
                    key="b.timer_id",
                    levels_up=level - 1,
                    kind=NotificationKind.ESCALATION,
                    now=now,
                )
                escalated += len(rows)
    return escalated


def sla_scan(*, now: datetime) -> ScanResult:
    """One pass of the scanner, in one transaction: record every breach whose due time
    passed (with that due time as its moment, however late the scanner runs), warn the
    timers at risk, climb the escalation ladder. What the breaches do to their orders is
    the follow-up's (`sla.checker.sla_check` runs both)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Short statements on a few rows: compiling them (JIT, which a misjudged row count
            # can trigger) costs more than it could ever save.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        ladder = _ladder()
        claimed = _claim_due(now=now, ladder=ladder)
        breach_ids = breaches_record(timer_ids=[timer_id for timer_id, _level in claimed], now=now)
        escalated = 0
        for level in sorted(ladder):
            reached = [timer_id for timer_id, claimed_level in claimed if claimed_level >= level]
            if reached:
                notify_supervisors(
                    ids=reached,
                    key="b.timer_id",
                    levels_up=level - 1,
                    kind=NotificationKind.ESCALATION,
                    now=now,
                )
                escalated += len(reached)
        at_risk = notify_at_risk(_claim_at_risk(now=now), now=now)
        escalated += _escalate(now=now, ladder=ladder)
    if breach_ids or at_risk or escalated:
        logger.info(
            "sla_scan: %s breached, %s at risk, %s escalated", len(breach_ids), at_risk, escalated
        )
    return ScanResult(
        at_risk=at_risk,
        breached=len(breach_ids),
        escalated=escalated,
        breach_ids=tuple(breach_ids),
    )
