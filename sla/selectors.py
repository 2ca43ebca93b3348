"""Reads of the SLA data: deadlines for the API and the pages, notifications, live alarms,
rule resolution and the holiday calendar."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from calls.models import Call
from sla.models import (
    ELAPSED_UNITS,
    Holiday,
    HolidayYear,
    Notification,
    SlaRule,
    Timer,
    TimerName,
)
from sla.policy import EMPTY_CALENDAR, WorkCalendar, calendar_from_rows

# --- Timers on orders ---------------------------------------------------------------------


def running_timers(ticket: Any) -> QuerySet[Timer]:
    """The order's timers still running (paused ones included), soonest due first."""
    return Timer.objects.filter(ticket=ticket, stopped_at__isnull=True).order_by("due_at", "id")


def _running_timers_of(ticket: Any) -> Iterable[Timer]:
    """``ticket.running_timers`` when the list was prefetched with ``running_timers_prefetch()``
    (a list page then costs no query per order), else one query."""
    timers = getattr(ticket, "running_timers", None)
    return running_timers(ticket) if timers is None else timers


def deadlines_for(ticket: Any) -> dict[str, datetime]:
    """Timer name → due time (UTC) of the timers running now: the API's ``deadlines``."""
    return {timer.name: timer.due_at for timer in _running_timers_of(ticket)}


def running_timers_prefetch() -> Prefetch:
    """``Ticket`` querysets: ``.prefetch_related(running_timers_prefetch())`` puts the running
    timers of every order on ``ticket.running_timers`` in one extra query."""
    return Prefetch(
        "timers",
        queryset=Timer.objects.filter(stopped_at__isnull=True).order_by("due_at", "id"),
        to_attr="running_timers",
    )


def running_deadlines_of(ticket_ids: list[int]) -> list[tuple[int, str, datetime]]:
    """(order id, timer name, due time in UTC) of the running timers of these orders, soonest
    due first: the deadlines of a page of orders, in one query."""
    if not ticket_ids:
        return []
    running = running_timers_prefetch().queryset
    return list(running.filter(ticket_id__in=ticket_ids).values_list("ticket_id", "name", "due_at"))


def estimated_deadlines_for(ticket: Any) -> dict[str, datetime]:
    """Timer name → due time of the running deadlines that are estimated (counted past the
    holiday table, Monday to Friday): the warning shown to supervisors."""
    return {timer.name: timer.due_at for timer in _running_timers_of(ticket) if timer.estimated}


def timers_estimated_running() -> QuerySet[Timer]:
    """Every running timer whose deadline is an estimate, for the supervisors' warning list."""
    return (
        Timer.objects.filter(stopped_at__isnull=True, estimated=True)
        .select_related("ticket", "handling_unit")
        .order_by("due_at", "id")
    )


# --- Notifications ------------------------------------------------------------------------


def notifications_unread_for(user: Any) -> QuerySet[Notification]:
    """The user's unread in-app notifications, newest first (index: recipient, read_at)."""
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=user, read_at__isnull=True)
        .select_related("ticket")
        .order_by("-created_at", "-id")
    )


def notifications_for(user: Any) -> QuerySet[Notification]:
    """All of the user's notifications, newest first."""
    return (
        Notification.objects.filter(recipient=user)
        .select_related("ticket")
        .order_by("-created_at", "-id")
    )


# --- Calls --------------------------------------------------------------------------------


def answer_limit(*, at: datetime) -> timedelta:
    """The answer limit in effect at ``at`` (default 12 s): the most recent active answer rule."""
    in_effect = [
        rule for rule in _active_rules() if rule.name == TimerName.ANSWER and _in_effect(rule, at)
    ]
    rule = max(in_effect, key=lambda r: (r.effective_from, r.pk), default=None)
    if rule is None or rule.unit not in ELAPSED_UNITS:
        return timedelta(seconds=12)
    return timedelta(**{rule.unit: rule.amount})


def ringing_past_limit(*, now: datetime, limit: timedelta) -> Q:
    """Calls that have rung longer than `limit` by `now` — past it, not at it: the negation
    of `sla.policy.answered_within` (a call ringing for exactly 12.000 s is not yet late)."""
    return Q(ring_at__lt=now - limit)


def calls_ringing_past_limit(now: datetime) -> QuerySet[Call]:
    """Calls still ringing (not answered, not hung up) longer than the answer limit: the
    live alarm on the wallboard. Oldest first."""
    return Call.objects.filter(
        ringing_past_limit(now=now, limit=answer_limit(at=now)),
        answer_at__isnull=True,
        hangup_at__isnull=True,
    ).order_by("ring_at", "id")


# --- Rules --------------------------------------------------------------------------------


_RULES_TTL_SECONDS = 30.0
_rules_lock = threading.Lock()
_rules_cache: tuple[float, tuple[SlaRule, ...]] | None = None


def _active_rules() -> tuple[SlaRule, ...]:
    """Every active rule, kept in memory for half a minute.

    Each order taken reads them (two or three times over its life), and they change a few
    times a year: reading them from memory takes a query and most of the SLA engine's share
    off the create path. A save or delete in this process clears the copy at once (see
    SlaConfig.ready); other processes pick a change up within the TTL. Rules are versioned,
    never deleted once in effect, so a copy never names a row that is gone.
    """
    global _rules_cache
    with _rules_lock:
        if _rules_cache and time.monotonic() - _rules_cache[0] < _RULES_TTL_SECONDS:
            return _rules_cache[1]
    rules = tuple(SlaRule.objects.filter(is_active=True).order_by("pk"))
    with _rules_lock:
        _rules_cache = (time.monotonic(), rules)
    return rules


def rules_cache_clear(**_signal: Any) -> None:
    global _rules_cache
    with _rules_lock:
        _rules_cache = None


def _in_effect(rule: SlaRule, at: datetime) -> bool:
    return rule.effective_from <= at and (rule.effective_to is None or rule.effective_to > at)


def rules_starting_on(*, events: list[str] | tuple[str, ...], at: datetime) -> list[SlaRule]:
    """Active rules whose clock starts on one of ``events`` and that were in effect at ``at``
    (the order's acceptance time: an order keeps the rule versions it started with)."""
    return [
        rule
        for rule in _active_rules()
        if rule.name != TimerName.ANSWER and rule.start_event in events and _in_effect(rule, at)
    ]


def rules_named(*, names: set[str] | frozenset[str], at: datetime) -> list[SlaRule]:
    """Active rules of these timers in effect at ``at``, whatever event starts their clock.

    The most specific rule of a timer wins before its start event is looked at: a sub-type's
    second-stage reply rule (starts when the unit hands the order back) replaces the
    category's reply rule (starts at acceptance) for that sub-type, instead of both running."""
    return [
        rule
        for rule in _active_rules()
        if rule.name != TimerName.ANSWER and rule.name in names and _in_effect(rule, at)
    ]


def rule_specificity(rule: SlaRule) -> tuple[int, int]:
    """How specific a rule is: (number of conditions set, weight).

    More conditions win; on a tie, a sub-type beats importance, which beats the area type,
    which beats the category. A sub-type implies its category, so it counts as two.
    """
    has_subtype = rule.subtype_id is not None
    has_category = bool(rule.category) or has_subtype
    has_important = rule.important is not None
    has_area = bool(rule.area_type)
    count = (2 if has_subtype else int(has_category)) + int(has_important) + int(has_area)
    weight = 8 * has_subtype + 4 * has_important + 2 * has_area + 1 * has_category
    return count, weight


def rule_matches(rule: SlaRule, ticket: Any) -> bool:
    """Does the rule apply to this order (blank conditions match anything)?"""
    if rule.category and rule.category != ticket.category:
        return False
    if rule.subtype_id is not None and rule.subtype_id not in (ticket.subtype_id, ticket.detail_id):
        return False
    if rule.area_type and rule.area_type != ticket.area_type:
        return False
    if rule.important is not None and rule.important != ticket.is_important:
        return False
    return True


def rules_best_for(rules: list[SlaRule], ticket: Any) -> dict[str, SlaRule]:
    """Timer name → the most specific matching rule (newest version on a tie)."""
    best: dict[str, SlaRule] = {}
    for rule in rules:
        if not rule_matches(rule, ticket):
            continue
        current = best.get(rule.name)
        key = (rule_specificity(rule), rule.effective_from, rule.pk)
        if current is None or key > (rule_specificity(current), current.effective_from, current.pk):
            best[rule.name] = rule
    return best


# --- The holiday calendar -----------------------------------------------------------------

_CALENDAR_TTL_SECONDS = 60.0
_calendar_lock = threading.Lock()
_calendar_cache: tuple[float, WorkCalendar] | None = None


def work_calendar(*, fresh: bool = False) -> WorkCalendar:
    """China's working-day calendar from the holiday table.

    Covers the contiguous run of complete years (``HolidayYear``) from the earliest one;
    days beyond it are estimated by ``sla.policy``. Kept in memory for a minute because
    every working-day timer needs it and it changes a few times a year; the admin clears
    it on save.
    """
    global _calendar_cache
    with _calendar_lock:
        if (
            not fresh
            and _calendar_cache
            and time.monotonic() - _calendar_cache[0] < _CALENDAR_TTL_SECONDS
        ):
            return _calendar_cache[1]
    calendar = _load_calendar()
    with _calendar_lock:
        _calendar_cache = (time.monotonic(), calendar)
    return calendar


def work_calendar_clear() -> None:
    global _calendar_cache
    with _calendar_lock:
        _calendar_cache = None


def _load_calendar() -> WorkCalendar:
    years = sorted(HolidayYear.objects.values_list("year", flat=True))
    if not years:
        return EMPTY_CALENDAR
    last = years[0]
    for year in years[1:]:
        if year != last + 1:
            break
        last = year
    covers_from, covers_to = date(years[0], 1, 1), date(last, 12, 31)
    rows = Holiday.objects.filter(day__range=(covers_from, covers_to)).values_list(
        "day", "is_working_day"
    )
    return calendar_from_rows(rows, covers_from=covers_from, covers_to=covers_to)
