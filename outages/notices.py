"""Proactive notice: a text message to every customer an outage covers when it is
registered, when its expected restoration changes, and when power is restored.

Three steps, so that the dispatch desk's form never waits for the SMS gateway:

1. `outage_notices_create` (called by `outages.services` inside the outage's own
   transaction, right after the event it tells of): one `OutageNotice` row per covered
   customer with a phone number, in bulk, the message rendered once in Chinese. The unique
   (event, customer) key makes a second message for the same event impossible. After the
   commit (`transaction.on_commit`) one Celery task is queued per SMS_NOTICE_BATCH rows.
2. `outage_notices_send` (the task): claims its pending rows with a short lease, sends
   them one by one and marks each sent the moment the gateway takes it, so a worker killed
   mid-batch resends nothing that went out. A gateway error (5xx, timeout) ends the round:
   the rest wait for the task's retry, backing off (SMS_RETRY_BACKOFF_SECONDS, doubled each
   round); after SMS_MAX_ATTEMPTS rounds a message counts as failed. A 4xx for one message
   fails that message only.
3. `outage_notices_sweep` (Celery beat, every minute): queues again the rows left pending
   whose lease and back-off have passed — a task lost with the broker, a worker killed.

Customers without a phone number get no message (there is nothing to send it to).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from celery import signature
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _

from customers.models import CustomerPhone
from outages.models import Outage, OutageEvent, OutageNotice
from outages.selectors import outage_customers_covered
from servicedesk.sms import GatewayUnavailable, MessageRejected, SmsGateway, sms_gateway

BEIJING = ZoneInfo("Asia/Shanghai")
# A sender holds its rows this long; it stops sending a little before, so that the sweep
# never queues a row that a live sender may still send.
LEASE = timedelta(minutes=10)
LEASE_MARGIN = timedelta(minutes=1)
# The sweep leaves fresh rows to the tasks queued with them.
SWEEP_GRACE = timedelta(minutes=2)
SWEEP_LIMIT = 50_000
RETRY_CAP_SECONDS = 3600.0
SEND_TASK = "outages.tasks.outage_notices_send_task"

NOTIFYING_EVENTS = {
    OutageEvent.Kind.REGISTERED: OutageNotice.Kind.REGISTERED,
    OutageEvent.Kind.RESTORATION: OutageNotice.Kind.RESTORATION,
    OutageEvent.Kind.UPDATED: OutageNotice.Kind.RESTORATION,
    OutageEvent.Kind.ENDED: OutageNotice.Kind.RESTORED,
}


def _when(moment: datetime | None) -> str:
    """A customer reads Beijing wall-clock time: 06-03 12:00."""
    if moment is None:
        return ""
    return f"{moment.astimezone(BEIJING):%m-%d %H:%M}"


def notice_text(*, outage: Outage, kind: str) -> str:
    """The message for one moment of the outage, in the centre's language (Chinese)."""
    values = {
        "number": outage.number,
        "title": outage.title,
        "start": _when(outage.starts_at),
        "expected": _when(outage.expected_restoration_at),
        "restored": _when(outage.restored_at),
    }
    with translation.override(settings.LANGUAGE_CODE):
        if kind == OutageNotice.Kind.RESTORED:
            text = _(
                "[95598] Power is back: the outage %(number)s (%(title)s) ended at "
                "%(restored)s. Thank you for your patience."
            )
        elif kind == OutageNotice.Kind.RESTORATION:
            text = _(
                "[95598] Outage %(number)s (%(title)s): the expected restoration is now "
                "%(expected)s. We apologise for the delay."
            )
        elif outage.kind == Outage.Kind.PLANNED:
            text = _(
                "[95598] Planned outage %(number)s (%(title)s) from %(start)s; expected "
                "restoration %(expected)s."
            )
        else:
            text = _(
                "[95598] Outage %(number)s (%(title)s) in your area since %(start)s; "
                "expected restoration %(expected)s. Crews are on it; no need to call."
            )
        if not outage.expected_restoration_at and kind != OutageNotice.Kind.RESTORED:
            values["expected"] = _("to be announced")
        return (text % values)[:500]


def _phones(outage: Outage) -> Iterator[tuple[int, str]]:
    """(customer id, number) for each covered customer with a phone: the primary one, else
    the first entered. One query, read in chunks."""
    covered = outage_customers_covered(outage).values("pk")
    rows = (
        CustomerPhone.objects.filter(customer_id__in=covered)
        .order_by("customer_id", "-is_primary", "pk")
        .values_list("customer_id", "number")
    )
    last = None
    for customer_id, number in rows.iterator(chunk_size=5000):
        if customer_id != last:
            last = customer_id
            yield customer_id, number


def outage_notices_create(*, outage: Outage, event: OutageEvent, now: datetime) -> int:
    """Write the notices of this event (inside the caller's transaction) and queue their
    sending for after the commit. Returns how many were written."""
    kind = NOTIFYING_EVENTS[event.kind]
    text = notice_text(outage=outage, kind=kind)
    notices = (
        OutageNotice(
            outage_id=outage.pk,
            event_id=event.pk,
            customer_id=customer_id,
            kind=kind,
            phone=number,
            text=text,
            created_at=now,
        )
        for customer_id, number in _phones(outage)
    )
    written = 0
    batch: list[OutageNotice] = []
    for notice in notices:
        batch.append(notice)
        if len(batch) >= 2000:
            OutageNotice.objects.bulk_create(batch)
            written, batch = written + len(batch), []
    if batch:
        OutageNotice.objects.bulk_create(batch)
        written += len(batch)
    if written:
        event_id = event.pk
        transaction.on_commit(lambda: _queue_event(event_id))
    return written


def _ranges(ids: Sequence[int], size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        yield chunk[0], chunk[-1]


def _queue(event_id: int, ids: Sequence[int]) -> int:
    queued = 0
    for first_id, last_id in _ranges(list(ids), settings.SMS_NOTICE_BATCH):
        # By name, not imported: the tasks module imports this one (its tasks are thin
        # wrappers of these services), and dependencies point one way.
        signature(SEND_TASK, args=(event_id, first_id, last_id)).delay()
        queued += 1
    return queued


def _queue_event(event_id: int) -> None:
    ids = OutageNotice.objects.filter(event_id=event_id).order_by("pk").values_list("pk", flat=True)
    _queue(event_id, list(ids))


@dataclass(frozen=True)
class NoticeRound:
    """What one sending round did; `retry_in` (seconds) when the gateway was unavailable
    and messages are waiting, `more` when the round stopped at its lease with rows left."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0
    retry_in: float | None = None
    more: bool = False


def _backoff(attempts: int) -> float:
    return min(settings.SMS_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)


def _claim(*, event_id: int, first_id: int, last_id: int, now: datetime) -> list[OutageNotice]:
    """Take this range's pending rows that no live sender holds: picked FOR UPDATE SKIP
    LOCKED and leased with one UPDATE, which also counts the round, so two tasks for the
    same rows (a retry and a sweep) never both send one."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        qs = OutageNotice.objects.filter(
            event_id=event_id,
            pk__gte=first_id,
            pk__lte=last_id,
            state=OutageNotice.State.PENDING,
        ).filter(free)
        ids = list(
            qs.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)
        )
        if not ids:
            return []
        OutageNotice.objects.filter(pk__in=ids).update(
            claimed_until=now + LEASE, attempts=F("attempts") + 1
        )
    return list(
        OutageNotice.objects.filter(pk__in=ids)
        .only("pk", "phone", "text", "attempts")
        .order_by("pk")
    )


def outage_notices_send(
    *,
    event_id: int,
    first_id: int,
    last_id: int,
    now: datetime,
    gateway: SmsGateway | None = None,
) -> NoticeRound:
    """One sending round over the notices of one event with ids first_id..last_id (the
    task's batch). Each message is marked sent as soon as the gateway takes it. `now` is
    when the round starts; the time it takes is measured on the monotonic clock."""
    gateway = gateway or sms_gateway()
    claimed = _claim(event_id=event_id, first_id=first_id, last_id=last_id, now=now)
    sent = failed = 0
    started = time.monotonic()

    def clock() -> datetime:
        return now + timedelta(seconds=time.monotonic() - started)

    stop_at = now + LEASE - LEASE_MARGIN
    for position, notice in enumerate(claimed):
        rest = [n.pk for n in claimed[position:]]
        if clock() >= stop_at:
            # Our lease is nearly out: hand the rest back (this round does not count for
            # them) and let the task queue itself again.
            OutageNotice.objects.filter(pk__in=rest).update(
                claimed_until=None, attempts=F("attempts") - 1
            )
            return NoticeRound(sent=sent, failed=failed, waiting=len(rest), more=True)
        reference = f"notice-{notice.pk}"
        try:
            answer = gateway.send(to=notice.phone, text=notice.text, reference=reference)
        except MessageRejected as error:
            OutageNotice.objects.filter(pk=notice.pk).update(
                state=OutageNotice.State.FAILED, claimed_until=None, last_error=str(error)[:200]
            )
            failed += 1
            continue
        except GatewayUnavailable as error:
            return _give_back(rest, error=str(error), now=clock(), sent=sent, failed=failed)
        OutageNotice.objects.filter(pk=notice.pk).update(
            state=OutageNotice.State.SENT,
            sent_at=clock(),
            claimed_until=None,
            gateway_reference=answer.reference,
            last_error="",
        )
        sent += 1
    return NoticeRound(sent=sent, failed=failed)


def _give_back(ids: list[int], *, error: str, now: datetime, sent: int, failed: int) -> NoticeRound:
    """The gateway is unavailable: those that have had their last round fail; the others
    wait for the retry, not before the back-off (which the sweep respects too)."""
    rows = OutageNotice.objects.filter(pk__in=ids)
    attempts = max(rows.values_list("attempts", flat=True), default=1)
    wait = _backoff(attempts)
    given_up = rows.filter(attempts__gte=settings.SMS_MAX_ATTEMPTS).update(
        state=OutageNotice.State.FAILED, claimed_until=None, last_error=error[:200]
    )
    waiting = rows.filter(state=OutageNotice.State.PENDING).update(
        claimed_until=None, next_attempt_at=now + timedelta(seconds=wait), last_error=error[:200]
    )
    return NoticeRound(
        sent=sent,
        failed=failed + given_up,
        waiting=waiting,
        retry_in=wait if waiting else None,
    )


def outage_notices_sweep(*, now: datetime) -> int:
    """Queue again the notices left pending (no live sender holds them, their back-off has
    passed, and they are older than the tasks queued with them). Returns the tasks queued."""
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    rows = (
        OutageNotice.objects.filter(
            state=OutageNotice.State.PENDING, created_at__lte=now - SWEEP_GRACE
        )
        .filter(free)
        .filter(due)
        .order_by("event_id", "pk")
        .values_list("event_id", "pk")[:SWEEP_LIMIT]
    )
    by_event: dict[int, list[int]] = {}
    for event_id, pk in rows:
        by_event.setdefault(event_id, []).append(pk)
    return sum(_queue(event_id, ids) for event_id, ids in by_event.items())
