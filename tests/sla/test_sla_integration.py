"""The real parts together: PostgreSQL, Redis as the broker, a real Celery worker and real
Celery beat processes started by the test against the test database.

What must hold: an order whose clock runs out seconds after it is taken gets exactly one
breach row within a bounded wait; with the worker stopped while deadlines pass and
restarted afterwards, every breach is recorded once with its true moment; with two beat
processes running at once, still once.

Waiting here is for real processes to act, so it uses the wall clock with bounded waits;
the deadlines themselves are seconds long on purpose.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from sla.models import Breach, SlaRule, Timer
from sla.services.rules import sla_rule_revise
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("SLA_TEST_BROKER_URL", "redis://127.0.0.1:6379/1")
SCAN_INTERVAL = "1"


def _redis_unreachable() -> str:
    try:
        import redis

        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means: skip with the reason
        return f"Redis broker {BROKER_URL} is not reachable ({exc.__class__.__name__})"
    return ""


pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: DATABASE_URL is not a postgres:// URL, and the worker and beat "
        "processes must share the test database",
    ),
    pytest.mark.skipif(bool(_redis_unreachable()), reason=_redis_unreachable() or "Redis"),
]


class Process:
    """A child process this test started (and only this test stops), logging to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        return self

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def stack(tmp_path):
    """Start/stop helpers for worker and beat processes pointed at the test database."""
    db = connection.settings_dict
    database_url = f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        database_url = database_url.replace("@", f":{db['PASSWORD']}@", 1)
    base_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER_URL,
        "SLA_SCAN_INTERVAL_SECONDS": SCAN_INTERVAL,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "LOG_LEVEL": "WARNING",
    }
    celery = str(Path(sys.executable).with_name("celery"))
    started: list[Process] = []

    # Messages left in our broker database by an earlier, interrupted run would be stale.
    subprocess.run(
        [celery, "-A", "servicedesk", "purge", "-f"],
        env=base_env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,
        check=False,
    )

    def worker(name: str = "worker", concurrency: int = 2) -> Process:
        process = Process(
            name,
            [
                celery,
                "-A",
                "servicedesk",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"sla-it-{name}@%h",
            ],
            {**base_env, "SERVICEDESK_VAR_DIR": str(tmp_path)},
            tmp_path,
        ).start()
        started.append(process)
        return process

    def beat(name: str = "beat") -> Process:
        # Each beat keeps its own schedule file, as two beats on two machines would.
        var_dir = tmp_path / name
        var_dir.mkdir(exist_ok=True)
        process = Process(
            name,
            [
                celery,
                "-A",
                "servicedesk",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(var_dir / "celerybeat-schedule"),
                "--pidfile",
                str(var_dir / "beat.pid"),
            ],
            {**base_env, "SERVICEDESK_VAR_DIR": str(var_dir)},
            tmp_path,
        ).start()
        started.append(process)
        return process

    class Stack:
        pass

    stack = Stack()
    stack.worker, stack.beat, stack.started = worker, beat, started
    yield stack
    for process in reversed(started):
        process.stop()


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str, processes=()) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    logs = "\n".join(f"--- {p.name} ---\n{p.log()[-3000:]}" for p in processes)
    pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}\n{logs}")


@pytest.fixture
def seconds_dispatch_rule(db):
    """The dispatch limit set to 4 seconds (a new rule version from now on)."""
    rule = SlaRule.objects.get(name="dispatch", effective_to__isnull=True)
    return sla_rule_revise(
        rule=rule,
        changes={"amount": 4, "unit": "seconds"},
        now=timezone.now() - timedelta(seconds=1),
    )


def take_orders(count: int, actor, customer) -> list[Ticket]:
    return [
        services.ticket_create(
            draft=TicketDraft(
                category="repair", caller_phone="13800000001", description="停电", customer=customer
            ),
            actor=actor,
        )
        for _ in range(count)
    ]


def breaches_of(tickets: list[Ticket]) -> list[Breach]:
    return list(Breach.objects.filter(ticket__in=tickets).select_related("timer"))


def assert_once_at_true_moment(tickets: list[Ticket]) -> None:
    breaches = breaches_of(tickets)
    assert sorted(b.ticket_id for b in breaches) == sorted(t.pk for t in tickets)
    for breach in breaches:
        assert breach.name == "dispatch"
        assert breach.occurred_at == breach.timer.due_at
        assert breach.recorded_at >= breach.occurred_at


def test_an_order_whose_clock_runs_out_gets_exactly_one_breach_from_worker_and_beat(
    stack, seconds_dispatch_rule, alice_actor, urban_customer, dave, centre
):
    centre.supervisors.add(dave)  # an order not yet dispatched is the call centre's
    worker, beat = stack.worker(), stack.beat()
    [ticket] = take_orders(1, alice_actor, urban_customer)
    timer = Timer.objects.get(ticket=ticket)
    assert timer.due_at - ticket.created_at == timedelta(seconds=4)

    wait_for(
        lambda: Breach.objects.filter(ticket=ticket).exists(),
        timeout=40,
        what="the breach",
        processes=[worker, beat],
    )
    wait_for(
        lambda: Ticket.objects.get(pk=ticket.pk).supervised,
        timeout=20,
        what="the order to be supervised",
        processes=[worker, beat],
    )
    time.sleep(3)  # several more scan passes: nothing may be added

    assert_once_at_true_moment([ticket])
    breach = Breach.objects.get(ticket=ticket)
    # Recorded within seconds of the deadline (beat every second here, 5 s by default).
    assert breach.recorded_at - breach.occurred_at < timedelta(seconds=10)
    assert dave.sla_notifications.filter(breach=breach).count() == 1


def test_with_the_worker_down_while_deadlines_pass_each_breach_is_recorded_once_with_its_true_time(
    stack, seconds_dispatch_rule, alice_actor, urban_customer
):
    worker, beat = stack.worker(), stack.beat()
    # Make sure the stack works before stopping the worker.
    [first] = take_orders(1, alice_actor, urban_customer)
    wait_for(
        lambda: Breach.objects.filter(ticket=first).exists(),
        timeout=40,
        what="the first breach",
        processes=[worker, beat],
    )

    worker.stop()
    tickets = take_orders(5, alice_actor, urban_customer)
    latest_due = max(Timer.objects.filter(ticket__in=tickets).values_list("due_at", flat=True))
    wait_for(
        lambda: timezone.now() > latest_due + timedelta(seconds=4),
        timeout=30,
        what="the deadlines to pass",
    )
    assert breaches_of(tickets) == []  # nobody was scanning

    restarted = stack.worker("worker-restarted")
    wait_for(
        lambda: len(breaches_of(tickets)) == len(tickets),
        timeout=40,
        what="the catch-up",
        processes=[restarted, beat],
    )
    time.sleep(3)

    assert_once_at_true_moment([first, *tickets])
    for breach in breaches_of(tickets):
        # The moment is the deadline, not when the restarted worker noticed it.
        assert breach.recorded_at - breach.occurred_at >= timedelta(seconds=4)


def test_two_beat_processes_at_once_still_record_each_breach_once(
    stack, seconds_dispatch_rule, alice_actor, urban_customer
):
    worker, first_beat, second_beat = (
        stack.worker(concurrency=2),
        stack.beat("beat-1"),
        stack.beat("beat-2"),
    )
    tickets = take_orders(8, alice_actor, urban_customer)

    wait_for(
        lambda: len(breaches_of(tickets)) == len(tickets),
        timeout=40,
        what="the breaches",
        processes=[worker, first_beat, second_beat],
    )
    time.sleep(3)

    assert_once_at_true_moment(tickets)
    # Both beats really were sending: the worker received scans from two schedules.
    for beat in (first_beat, second_beat):
        assert "Scheduler: Sending due task sla-scan" in beat.log()
    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], supervised=True).count() == len(
        tickets
    )
