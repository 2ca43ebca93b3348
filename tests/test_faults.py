"""No order lost under faults: the real parts, with the faults of a bad night injected.

The web app (gunicorn, two workers), a Celery worker and two Celery beats (a second one by
mistake) run as child processes against the test database on PostgreSQL and a Redis of the
test's own. Four IVR lines send a stream of new orders, each with its own Idempotency-Key,
and retry the same key and body on anything but a 2xx, as an IVR does. While they do, the
worker is killed with SIGKILL and started again, Redis is shut down and started again, and
every database connection of the test database is terminated once.

What must hold afterwards: every answer a client got was a 2xx or a JSON error with
`detail` and `code` (never an HTML page); every key got its 201, and every 201 is in the
database exactly once (no order lost, none doubled, no half order from a failed attempt);
every dispatch deadline that passed has exactly one breach, recorded with its true moment
and followed up once on its order (one timeline line, one notification per supervisor),
although the two beats asked for every scan twice; and no deadline that had not passed has
a breach.

Repairs get a dispatch limit of 3 seconds, so their deadlines pass while the faults happen;
complaints keep the 3 minutes, so theirs do not. Waits use the wall clock and are bounded:
the whole test takes well under two minutes.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone
from live_stack import (
    Child,
    OwnRedis,
    app_server,
    celery_beat,
    celery_worker,
    database_url,
    django_env,
    wait_for,
    worker_ready,
)

from api.models import IdempotencyRecord
from sla.models import Breach, Notification, NotificationKind, SlaRule, Timer
from tickets.models import Ticket, TicketEvent

pytestmark = [
    pytest.mark.integration,
    # The server's requests commit; the test reads what they wrote.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: the web app, worker and beats share the test database",
    ),
    pytest.mark.skipif(OwnRedis.binary() is None, reason="redis-server is not installed"),
]

TICKETS = "/api/v1/tickets/"
LINES = 4  # IVR lines sending at once
# Between two orders on one line: about 60 orders a second in all, a busy evening's IVR,
# leaving the worker room to keep up on a two-core CI machine.
PAUSE_SECONDS = 0.03
REQUEST_SECONDS = 10  # a client gives up on one attempt after this long, then retries
RETRY_SECONDS = 15  # once the stream stops, how long a line may still retry its last order
REPAIR_DISPATCH_SECONDS = 3


@dataclass
class Attempt:
    """One POST as the client saw it; `status` None: no HTTP answer (refused, reset, timeout)."""

    key: str
    started: float  # time.monotonic()
    ended: float
    status: int | None
    content_type: str = ""
    body: bytes = b""
    retry_after: str | None = None
    error: str = ""

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def is_clear(self) -> bool:
        """A 2xx, or a JSON error in the API's one shape: it says what went wrong."""
        if self.ok:
            return True
        if self.status is None or not self.content_type.startswith("application/json"):
            return False
        try:
            body = self.json()
        except ValueError:
            return False
        return isinstance(body, dict) and all(
            isinstance(body.get(name), str) for name in ("detail", "code")
        )


@dataclass
class Ivr:
    """The IVR's lines: each takes one call after another and sends its order, the same key
    and body again on anything but a 2xx, until the order is taken."""

    base: str
    token: str
    attempts: list[Attempt] = field(default_factory=list)
    stopped_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, key: str, body: dict[str, str]) -> Attempt:
        request = urllib.request.Request(
            self.base + TICKETS,
            method="POST",
            data=json.dumps(body).encode(),
            headers={
                "Authorization": f"Token {self.token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Idempotency-Key": key,
            },
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:
                status, headers, content = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, content = error.code, error.headers, error.read()
        except OSError as error:
            return Attempt(key, started, time.monotonic(), None, error=repr(error))
        content_type, retry_after = headers.get("Content-Type", ""), headers.get("Retry-After")
        return Attempt(key, started, time.monotonic(), status, content_type, content, retry_after)

    def send(self, key: str, body: dict[str, str]) -> None:
        while True:
            attempt = self.post(key, body)
            with self.lock:
                self.attempts.append(attempt)
            if attempt.ok:
                return
            if self.stopped_at is not None and time.monotonic() > self.stopped_at + RETRY_SECONDS:
                return
            wait = 0.3
            if attempt.retry_after and attempt.retry_after.isdigit():
                wait = min(float(attempt.retry_after), 1.0)
            time.sleep(wait)

    def line(self, number: int) -> None:
        sent = 0
        while self.stopped_at is None:
            key = f"ivr-line{number}-{sent:05d}"
            # Every fourth call a complaint: its dispatch limit stays 3 minutes.
            category = "complaint" if sent % 4 == 3 else "repair"
            description = f"第{sent}通来电（{key}）"
            self.send(
                key,
                {"category": category, "caller_phone": "13800000001", "description": description},
            )
            sent += 1
            time.sleep(PAUSE_SECONDS)

    def last_answers(self) -> dict[str, Attempt]:
        """Each key's last attempt: what the line was left with."""
        last: dict[str, Attempt] = {}
        for attempt in sorted(self.attempts, key=lambda a: a.ended):
            last[attempt.key] = attempt
        return last


@dataclass
class Moment:
    monotonic: float = field(default_factory=time.monotonic)
    wall: datetime = field(default_factory=timezone.now)


def taken_between(attempts: list[Attempt], start: Moment, end: Moment) -> list[Attempt]:
    """Orders sent and answered 201 entirely inside the window."""
    return [
        a
        for a in attempts
        if a.status == 201 and start.monotonic <= a.started < a.ended < end.monotonic
    ]


def caught_up(overdue: list[Breach], back: Moment) -> float:
    """Seconds from a part's return to the first of the breaches it missed being recorded."""
    return (min(b.recorded_at for b in overdue) - back.wall).total_seconds()


def terminate_database_connections() -> int:
    """pg_terminate_backend on every other session of the test database — only ours."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def redis_server(tmp_path):
    """The broker of this test alone, which it may shut down: not the shared one."""
    server = OwnRedis(tmp_path)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def children(transactional_db, redis_server):
    """Every child process the test starts, stopped when it ends (passed or not): before
    the broker they use and before the test database is flushed."""
    started: list[Child] = []
    try:
        yield started
    finally:
        for child in reversed(started):
            child.stop()


@pytest.fixture
def quick_repair_dispatch(db):
    """Repairs must be dispatched within 3 seconds (a rule more specific than the general
    3 minutes, in effect from now on), so their deadlines pass while the faults happen."""
    general = SlaRule.objects.get(name="dispatch", category="", effective_to__isnull=True)
    return SlaRule.objects.create(
        name="dispatch",
        category="repair",
        amount=REPAIR_DISPATCH_SECONDS,
        unit="seconds",
        start_event=general.start_event,
        stop_event=general.stop_event,
        effective_from=timezone.now() - timedelta(seconds=1),
    )


def test_no_order_or_breach_is_lost_or_doubled_when_the_worker_redis_and_the_database_fail(
    children,
    redis_server,
    quick_repair_dispatch,
    api_client,
    urban_customer,
    centre,
    dave,
    tmp_path,
):
    centre.supervisors.add(dave)  # an order not yet dispatched is the call centre's
    env = django_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL=redis_server.url(),
        SLA_SCAN_INTERVAL_SECONDS="1",
        DB_CONN_MAX_AGE="60",  # persistent sessions, as in production: the ones cut below
    )
    server, base = app_server(env=env, log_dir=tmp_path)
    children.append(server)
    worker = celery_worker("worker-1", env=env, log_dir=tmp_path).start()
    # Two beats at once, by mistake: every scan is asked for twice.
    beats = [celery_beat(f"beat-{n}", env=env, log_dir=tmp_path).start() for n in (1, 2)]
    children += [worker, *beats]
    wait_for(lambda: worker_ready(worker), timeout=30, what="the worker", children=[worker])

    ivr = Ivr(base, api_client.token)
    lines = [threading.Thread(target=ivr.line, args=(n,), daemon=True) for n in range(LINES)]
    for line in lines:
        line.start()
    at: dict[str, Moment] = {"stream": Moment()}
    try:
        time.sleep(3)
        # The worker dies mid-work, all its processes at once, as `docker kill` ends it.
        at["worker killed"] = Moment()
        worker.kill()
        time.sleep(4)
        at["worker restarted"] = Moment()
        worker = celery_worker("worker-2", env=env, log_dir=tmp_path).start()
        children.append(worker)
        wait_for(lambda: worker_ready(worker), timeout=30, what="the restarted worker")
        time.sleep(2)
        # The broker goes away with all it held, and comes back empty.
        at["redis down"] = Moment()
        redis_server.shutdown()
        assert not redis_server.answers()
        time.sleep(5)
        at["redis up"] = Moment()
        redis_server.start()
        time.sleep(3)
        # Every session of the test database is cut: the web workers', a running task's.
        at["connections cut"] = Moment()
        terminated = terminate_database_connections()
        time.sleep(4)
    finally:
        ivr.stopped_at = time.monotonic()
        for line in lines:
            line.join(timeout=REQUEST_SECONDS + RETRY_SECONDS + 5)
    stream_seconds = time.monotonic() - at["stream"].monotonic
    assert not any(line.is_alive() for line in lines)
    # The two web workers' persistent sessions at least (Celery closes its own after each task).
    assert terminated >= 2

    # Every answer was a 2xx or a clear JSON error: no HTML page, no bare 5xx, no silence.
    unclear = [a for a in ivr.attempts if not a.is_clear]
    assert unclear == [], server.log()
    unavailable = [a for a in ivr.attempts if not a.ok and a.status >= 500]
    assert {(a.status, a.json()["code"], a.retry_after) for a in unavailable} <= {
        (503, "unavailable", "1")
    }

    # Every order was taken in the end, and the web app kept taking them throughout, also
    # while the worker was dead and while Redis was down.
    last = ivr.last_answers()
    assert len(last) >= 100, "the stream was a stream"
    assert {key: a.status for key, a in last.items() if a.status != 201} == {}
    assert taken_between(ivr.attempts, at["worker killed"], at["worker restarted"])
    assert taken_between(ivr.attempts, at["redis down"], at["redis up"])

    # Every 201 is in the database exactly once, and nothing else is: a key answered twice
    # (a retry of a request whose answer was lost) names the same order both times.
    numbers: dict[str, str] = {}
    for attempt in ivr.attempts:
        if attempt.status == 201:
            number = attempt.json()["number"]
            assert numbers.setdefault(attempt.key, number) == number, attempt.key
    assert len(set(numbers.values())) == len(numbers) == len(last)
    assert Counter(Ticket.objects.values_list("number", flat=True)) == Counter(numbers.values())
    # No half order from an attempt that failed: each has its key, its first timeline line
    # and its dispatch clock.
    assert IdempotencyRecord.objects.filter(client=api_client.client).count() == len(last)
    created_lines = Count("events", filter=Q(events__kind=TicketEvent.Kind.CREATED))
    assert Ticket.objects.annotate(n=created_lines).filter(n=1).count() == len(last)
    dispatch = Timer.objects.filter(name="dispatch")
    assert dispatch.count() == len(last)

    # Every repair's deadline passed during the test, no complaint's did. Wait (bounded)
    # until the checker has caught up with the last and followed each breach up.
    repairs = dispatch.filter(category="repair")
    last_due = max(repairs.values_list("due_at", flat=True))
    wait_for(
        lambda: (
            timezone.now() > last_due
            and Breach.objects.filter(followed_up_at__isnull=False).count() == repairs.count()
        ),
        timeout=40,
        what="the checker to catch up",
        children=[worker, *beats],
    )
    time.sleep(3)  # three more scans from each beat: nothing may be added

    breaches = list(Breach.objects.select_related("timer"))
    assert sorted(b.timer_id for b in breaches) == sorted(repairs.values_list("pk", flat=True))
    for breach in breaches:
        # Its true moment, however late it was noticed.
        assert breach.occurred_at == breach.timer.due_at == breach.timer.breached_at
        assert breach.recorded_at >= breach.occurred_at
    # The deadlines that passed with no worker alive were caught up once it was back; those
    # that passed with the broker gone (and its last tasks expired, 2 s), once it was back.
    while_dead = [
        b
        for b in breaches
        if at["worker killed"].wall < b.occurred_at < at["worker restarted"].wall
    ]
    assert while_dead
    assert all(b.recorded_at > at["worker restarted"].wall for b in while_dead)
    broker_gone = at["redis down"].wall + timedelta(seconds=2.5)
    while_down = [b for b in breaches if broker_gone < b.occurred_at < at["redis up"].wall]
    assert while_down
    assert all(b.recorded_at > at["redis up"].wall for b in while_down)

    # Each breach followed up once: one timeline line, its order supervised and flagged.
    breach_lines = TicketEvent.objects.filter(kind=TicketEvent.Kind.BREACH)
    assert Counter(breach_lines.values_list("data__breach", flat=True)) == Counter(
        b.pk for b in breaches
    )
    flagged = Ticket.objects.filter(category="repair", breached=True, supervised=True)
    assert flagged.count() == len(breaches)
    # One notification per breach for the centre's supervisor, and nothing sent twice.
    breach_notices = Notification.objects.filter(kind=NotificationKind.BREACH)
    assert Counter(breach_notices.values_list("breach_id", "recipient_id")) == Counter(
        (b.pk, dave.pk) for b in breaches
    )
    doubled = (
        Notification.objects.values("recipient", "ticket", "breach", "kind", "message")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(doubled) == []

    # Both beats really were asking for scans, and every part is still up.
    for beat in beats:
        assert "Sending due task sla-scan" in beat.log(tail=10_000_000), beat.log()
    down = [(c.name, c.log()) for c in (server, worker, *beats) if not c.alive]
    assert down == []
    print(
        f"\n{len(last)} orders in {stream_seconds:.0f} s, {len(ivr.attempts)} requests,"
        f" {len(unavailable)} answered 503; {terminated} sessions cut; {len(breaches)} breaches;"
        f" caught up {caught_up(while_dead, at['worker restarted']):.1f} s after the worker's"
        f" restart, {caught_up(while_down, at['redis up']):.1f} s after Redis's"
    )
