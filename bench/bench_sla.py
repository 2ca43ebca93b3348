"""SLA scanner on a provincial centre's open load: 1,000,000 open orders with a running timer
each, 10,000 of them past due.

Prints, in plain words:
- the time of one scan (`sla.services.scan.sla_scan`) that records the 10,000 breaches
  (breach rows and supervisors' notifications, on the SLA engine's own tables; target < 2 s)
  and, apart, the follow-up on their orders (`tickets.services.tickets_breach_followup`, in
  batches as the workers take it: a timeline event per breach, each order flagged breached
  and marked supervised);
- the time of a scan with nothing due (target < 50 ms);
- the peak memory of this process (target < 300 MB);
- the delay from a deadline passing to its breach being recorded with a real Celery beat
  and worker running at the default 5-second interval (target < 10 s);
- the query plans (EXPLAIN) of the scan's statements.

The data set is the shared one (`bench.data.ensure_data`, loaded by `python -m bench`).
Everything the benchmark changes is undone at the end: the
breaches, notifications and timeline events it caused are deleted, the timers and orders it
touched are put back (the orders' flags and `updated_at` from a copy taken before), the
supervisors it added are removed.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.data import django_setup

ROOT = Path(__file__).resolve().parents[1]
PAST_DUE = 10_000
BROKER_URL = os.environ.get("SLA_BENCH_BROKER_URL", "redis://127.0.0.1:6379/1")
# Marks at-risk warnings "already sent" before the benchmark (the steady state of a centre
# whose scanner has been running); restored to NULL at the end.
SENTINEL = datetime(1999, 12, 31, 0, 0)
SUPERVISOR_PREFIX = "bench-sla-supervisor-"
# The orders the run may follow up, as they were before it: what `_undo` puts back.
ORDERS_BEFORE = "bench_sla_orders_before"
# Orders whose running timer falls due within this long of the start are copied: the
# 10,000 past due, and the few more that fall due while the run lasts (a few minutes).
ORDERS_BEFORE_WINDOW = timedelta(hours=1)


def _sql(query: str, params: list[Any] | None = None) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(query, params or [])
        return cursor.fetchall() if cursor.description else []


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _add_supervisors() -> int:
    """One supervisor per handling unit, so every breach notifies somebody (as in a centre)."""
    from django.contrib.auth.models import User

    from customers.models import HandlingUnit

    units = list(HandlingUnit.objects.all())
    users = User.objects.bulk_create(
        [User(username=f"{SUPERVISOR_PREFIX}{unit.pk}", password="!") for unit in units]
    )
    HandlingUnit.supervisors.through.objects.bulk_create(
        [
            HandlingUnit.supervisors.through(handlingunit_id=unit.pk, user_id=user.pk)
            for unit, user in zip(units, users, strict=True)
        ]
    )
    return len(users)


def _copy_orders(where: str, params: list[Any]) -> None:
    """Keep, for `_undo`, the follow-up's columns of the orders matching ``where`` (of ``t``)."""
    _sql(
        f"CREATE UNLOGGED TABLE IF NOT EXISTS {ORDERS_BEFORE} "
        "(id bigint PRIMARY KEY, supervised boolean, supervised_at timestamptz, "
        "breached boolean, updated_at timestamptz)"
    )
    _sql(
        f"INSERT INTO {ORDERS_BEFORE} SELECT t.id, t.supervised, t.supervised_at, t.breached, "
        f"t.updated_at FROM tickets_ticket t WHERE {where} ON CONFLICT (id) DO NOTHING",
        params,
    )


def _watermarks() -> dict[str, int]:
    """The highest row ids before the run: whatever comes above them is ours to remove."""
    return {
        table: _sql(f"SELECT coalesce(max(id), 0) FROM {table}")[0][0]
        for table in ("sla_breach", "sla_notification", "tickets_ticketevent")
    }


def _undo(*, marks: dict[str, int], started: datetime) -> None:
    """Put back everything the scanner (ours, or the real beat's) did during the run."""
    from django.db import transaction

    with transaction.atomic():
        timer_ids = [
            r[0]
            for r in _sql("SELECT timer_id FROM sla_breach WHERE id > %s", [marks["sla_breach"]])
        ]
        touched = [
            r[0]
            for r in _sql(
                "SELECT ticket_id FROM sla_breach WHERE id > %s UNION "
                "SELECT ticket_id FROM tickets_ticketevent WHERE id > %s AND kind = 'supervised'",
                [marks["sla_breach"], marks["tickets_ticketevent"]],
            )
        ]
        _sql(
            f"CREATE UNLOGGED TABLE IF NOT EXISTS {ORDERS_BEFORE} "
            "(id bigint PRIMARY KEY, supervised boolean, supervised_at timestamptz, "
            "breached boolean, updated_at timestamptz)"
        )
        # The orders copied before the run get their columns back as they were ...
        _sql(
            f"UPDATE tickets_ticket t SET supervised = c.supervised, supervised_at = c.supervised_at, "
            f"breached = c.breached, updated_at = c.updated_at FROM {ORDERS_BEFORE} c "
            "WHERE t.id = c.id AND t.id = ANY(%s)",
            [touched],
        )
        # ... and any other (none, unless the run lasted far longer than planned) loses what
        # the run's breaches gave it; its updated_at stays moved.
        _sql(
            "UPDATE tickets_ticket t SET supervised = FALSE, supervised_at = NULL, breached = FALSE "
            f"WHERE t.id = ANY(%s) AND NOT EXISTS (SELECT 1 FROM {ORDERS_BEFORE} c WHERE c.id = t.id)",
            [touched],
        )
        _sql("DELETE FROM tickets_ticketevent WHERE id > %s", [marks["tickets_ticketevent"]])
        _sql("DELETE FROM sla_notification WHERE id > %s", [marks["sla_notification"]])
        _sql("DELETE FROM sla_breach WHERE id > %s", [marks["sla_breach"]])
        _sql(
            "UPDATE tickets_ticket t SET breached = FALSE WHERE t.id = ANY(%s) AND t.breached "
            "AND NOT EXISTS (SELECT 1 FROM sla_breach b WHERE b.ticket_id = t.id)",
            [touched],
        )
        _sql(
            "UPDATE sla_timer SET breached_at = NULL, escalation_level = 0 WHERE id = ANY(%s)",
            [timer_ids],
        )
        _sql(
            "UPDATE sla_timer SET at_risk_notified_at = NULL "
            "WHERE at_risk_notified_at = %s OR at_risk_notified_at >= %s",
            [SENTINEL, started],
        )
        _sql(
            "DELETE FROM sla_timer WHERE rule_id IN (SELECT id FROM sla_slarule WHERE note = 'bench')"
        )
        _sql("DELETE FROM sla_slarule WHERE note = 'bench'")
        _sql(
            "DELETE FROM customers_handlingunit_supervisors WHERE user_id IN "
            "(SELECT id FROM auth_user WHERE username LIKE %s)",
            [SUPERVISOR_PREFIX + "%"],
        )
        _sql("DELETE FROM auth_user WHERE username LIKE %s", [SUPERVISOR_PREFIX + "%"])
        _sql(f"DROP TABLE {ORDERS_BEFORE}")


def _explain(statements: list[tuple[str, Any]]) -> None:
    from django.db import connection, transaction

    print("\n   Query plans of the scan's statements (EXPLAIN, after the scan ran):")
    for sql, params in statements:
        head = sql.strip().split()[0].upper()
        if head not in {"UPDATE", "INSERT", "SELECT"}:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + sql, params)
            plan = [row[0] for row in cursor.fetchall()]
            transaction.set_rollback(True)
        first = " ".join(sql.split())[:110]
        print(f"\n   -- {first}…")
        for line in plan:
            # The id lists the scan passes as one array parameter would fill the screen.
            print(f"      {line if len(line) <= 150 else line[:147] + '...'}")


def _scan_phase(figures: dict[str, float]) -> None:
    from django.db import connection

    from sla.services.breaches import FOLLOWUP_BATCH
    from sla.services.scan import sla_scan
    from tickets.services import tickets_breach_followup

    # The moment at which exactly PAST_DUE running timers are past due, whatever the age of
    # the data set (more timers fall due as the hours pass after loading).
    (nth_due,) = _sql(
        "SELECT due_at FROM sla_timer WHERE stopped_at IS NULL AND breached_at IS NULL AND paused_at IS NULL "
        "ORDER BY due_at OFFSET %s LIMIT 1",
        [PAST_DUE - 1],
    )[0]
    scan_at = _utc(nth_due) + timedelta(microseconds=1)
    (first_due,) = _sql(
        "SELECT min(due_at) FROM sla_timer WHERE stopped_at IS NULL AND breached_at IS NULL"
    )[0]
    idle_at = _utc(first_due) - timedelta(seconds=1)
    (running,) = _sql("SELECT count(*) FROM sla_timer WHERE stopped_at IS NULL")[0]
    print(
        f"   {running:,} running timers; scanning at {scan_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"when {PAST_DUE:,} are past due"
    )

    started = time.perf_counter()
    (warned,) = _sql(
        "WITH w AS (UPDATE sla_timer SET at_risk_notified_at = %s WHERE stopped_at IS NULL "
        "AND at_risk_notified_at IS NULL AND breached_at IS NULL AND at_risk_at <= %s RETURNING 1) "
        "SELECT count(*) FROM w",
        [SENTINEL, scan_at],
    )[0]
    # A running centre reaches this state gradually: autovacuum has cleaned and analysed the
    # table and the checkpointer has written the pages. Do the same, or the measured scan
    # would pay for this bulk update's dead rows, stale statistics and dirty pages.

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sla_timer")
        cursor.execute("CHECKPOINT")
    print(
        f"   steady state: {warned:,} timers past 80 % marked as already warned, table vacuumed "
        f"({time.perf_counter() - started:.1f} s, undone at the end)"
    )

    # A scan with nothing due: the common case, every 5 seconds.
    idle = []
    for _ in range(20):
        t0 = time.perf_counter()
        result = sla_scan(now=idle_at)
        idle.append(time.perf_counter() - t0)
        assert result.breached == 0, result
    figures["empty_scan_ms"] = statistics.median(idle) * 1000
    print(
        f"   scan with nothing due: median {figures['empty_scan_ms']:.1f} ms, "
        f"max {max(idle) * 1000:.1f} ms over 20 passes (target < 50 ms)"
    )

    statements: list[tuple[str, Any]] = []
    spent: list[float] = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - t0)

    tracemalloc.start()
    with connection.execute_wrapper(capture):
        t0 = time.perf_counter()
        result = sla_scan(now=scan_at)
        elapsed = time.perf_counter() - t0
    _current, peak_alloc = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures["breach_scan_s"] = elapsed
    figures["breaches_recorded"] = result.breached
    (notified,) = _sql(
        "SELECT count(*) FROM sla_notification WHERE kind = 'breach' AND created_at = %s", [scan_at]
    )[0]
    print(
        f"   scan recording {result.breached:,} breaches (+ {notified:,} notifications; the "
        f"orders and their timelines are the follow-up's): {elapsed:.2f} s (target < 2 s); "
        f"Python allocations peaked at {peak_alloc / 2**20:.1f} MB"
    )

    # Where the scan's time went: each statement as the database answered it, the rest is
    # Python and the commit.
    for (sql, _params), seconds in sorted(
        zip(statements, spent, strict=True), key=lambda pair: -pair[1]
    )[:8]:
        print(f"      {seconds * 1000:7.0f} ms  {' '.join(sql.split())[:100]}")
    print(f"      {(elapsed - sum(spent)) * 1000:7.0f} ms  outside the statements (Python, COMMIT)")

    # The follow-up as the workers take it: a batch per transaction until none is left.
    (events_before,) = _sql("SELECT coalesce(max(id), 0) FROM tickets_ticketevent")[0]
    t0 = time.perf_counter()
    done = batches = 0
    while batch := tickets_breach_followup(now=scan_at, limit=FOLLOWUP_BATCH):
        done += batch
        batches += 1
    figures["followup_s"] = time.perf_counter() - t0
    breach_events, supervised_events = _sql(
        "SELECT count(*) FILTER (WHERE kind = 'breach'), count(*) FILTER (WHERE kind = 'supervised') "
        "FROM tickets_ticketevent WHERE id > %s",
        [events_before],
    )[0]
    (flagged,) = _sql(
        "SELECT count(*) FROM tickets_ticket WHERE supervised AND breached AND id IN "
        "(SELECT ticket_id FROM sla_breach WHERE id = ANY(%s))",
        [list(result.breach_ids)],
    )[0]
    print(
        f"   follow-up of {done:,} breaches in {batches} batches of {FOLLOWUP_BATCH:,} "
        f"({breach_events:,} breach and {supervised_events:,} supervised timeline events; "
        f"{flagged:,} orders flagged breached and supervised (督办)): {figures['followup_s']:.1f} s"
    )

    t0 = time.perf_counter()
    again = sla_scan(now=scan_at)
    print(
        f"   the same scan once more: {again.breached} new breaches ({(time.perf_counter() - t0) * 1000:.0f} ms)"
    )
    _explain(
        [s for s in statements if not s[0].lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
    )


def _beat_phase(figures: dict[str, float], database_url: str) -> None:
    """Real worker + beat at the default 5 s interval; deadlines passing while they run."""
    from django.db import connection
    from django.utils import timezone

    from sla.models import Breach, SlaRule, Timer
    from sla.services.scan import sla_scan
    from tickets.models import Ticket

    now = timezone.now()
    # Clear the backlog first (as a running scanner would have) and mark the warnings sent;
    # the worker started below follows up the breaches this records.
    sla_scan(now=now)
    _sql(
        "UPDATE sla_timer SET at_risk_notified_at = %s WHERE stopped_at IS NULL AND at_risk_notified_at IS NULL "
        "AND breached_at IS NULL AND at_risk_at <= %s",
        [SENTINEL, now + timedelta(minutes=5)],
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sla_timer")

    rule = SlaRule.objects.create(
        name="restoration",
        amount=1,
        unit="seconds",
        start_event="arrived",
        stop_event="restored",
        effective_from=now,
        note="bench",
        is_active=False,
    )
    tickets = list(
        Ticket.objects.filter(status="on_site")
        .exclude(timers__name="restoration")
        .order_by("id")[:20]
    )
    _copy_orders("t.id = ANY(%s)", [[ticket.pk for ticket in tickets]])
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": BROKER_URL,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "LOG_LEVEL": "INFO",
    }
    env.pop("SLA_SCAN_INTERVAL_SECONDS", None)  # the production default: 5 s
    celery = str(Path(sys.executable).with_name("celery"))
    processes: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as var_dir:
        env["SERVICEDESK_VAR_DIR"] = var_dir
        subprocess.run(
            [celery, "-A", "servicedesk", "purge", "-f"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            timeout=60,
            check=False,
        )
        log = open(Path(var_dir) / "celery.log", "ab")  # noqa: SIM115 - closed below
        try:
            processes.append(
                subprocess.Popen(
                    [
                        celery,
                        "-A",
                        "servicedesk",
                        "worker",
                        "--loglevel=INFO",
                        "--concurrency=2",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                        "-n",
                        "sla-bench@%h",
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            processes.append(
                subprocess.Popen(
                    [
                        celery,
                        "-A",
                        "servicedesk",
                        "beat",
                        "--loglevel=WARNING",
                        "--schedule",
                        str(Path(var_dir) / "schedule"),
                        "--pidfile",
                        str(Path(var_dir) / "beat.pid"),
                    ],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            time.sleep(8)  # let both start before the first deadline passes
            start = timezone.now()
            timers = Timer.objects.bulk_create(
                [
                    Timer(
                        ticket=ticket,
                        name="restoration",
                        rule=rule,
                        started_at=start,
                        due_at=start + timedelta(seconds=2 + 2 * i),
                        at_risk_at=start + timedelta(seconds=1 + 2 * i),
                        category=ticket.category,
                        area_type=ticket.area_type,
                        handling_unit_id=ticket.handling_unit_id,
                        owner_id=ticket.owner_id,
                    )
                    for i, ticket in enumerate(tickets)
                ]
            )
            last_due = max(t.due_at for t in timers)
            deadline = time.monotonic() + (last_due - start).total_seconds() + 30
            while time.monotonic() < deadline:
                if Breach.objects.filter(timer__in=timers).count() == len(timers):
                    break
                time.sleep(0.5)
            delays = [
                (b.recorded_at - b.occurred_at).total_seconds()
                for b in Breach.objects.filter(recorded_at__gte=start)
            ]
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            log.close()
            # Keyed by task id: the worker's log lines can reach the file more than once.
            passes = list(
                {
                    task_id: float(seconds)
                    for task_id, seconds in re.findall(
                        r"Task sla\.tasks\.sla_scan_task\[([^\]]+)\] succeeded in ([0-9.]+)s",
                        (Path(var_dir) / "celery.log").read_text(errors="replace"),
                    )
                }.values()
            )
    if passes:
        print(
            f"   the worker ran {len(passes)} scan passes: median {statistics.median(passes) * 1000:.0f} ms, "
            f"slowest {max(passes) * 1000:.0f} ms"
        )
    recorded = Breach.objects.filter(timer__in=timers).count()
    if delays:
        figures["beat_delay_max_s"] = max(delays)
        figures["beat_delay_median_s"] = statistics.median(delays)
        print(
            f"   with beat (every 5 s) and a worker running: {recorded} of {len(timers)} deadlines passing "
            f"over {(last_due - start).total_seconds():.0f} s were recorded; {len(delays)} breaches in all, "
            f"delay from deadline to record: median {figures['beat_delay_median_s']:.1f} s, "
            f"max {figures['beat_delay_max_s']:.1f} s (target < 10 s)"
        )
    else:
        print(
            "   with beat running: no breach was recorded — check the Redis broker at " + BROKER_URL
        )


def run(*, database_url: str) -> dict[str, float]:
    django_setup(database_url)
    from django.utils import timezone

    figures: dict[str, float] = {}
    marks, started = _watermarks(), timezone.now()
    try:
        _copy_orders(
            "t.id IN (SELECT ticket_id FROM sla_timer WHERE stopped_at IS NULL "
            "AND breached_at IS NULL AND due_at < %s)",
            [started + ORDERS_BEFORE_WINDOW],
        )
        print(f"   {_add_supervisors()} supervisors attached to the units for the run")
        _scan_phase(figures)
        _beat_phase(figures, database_url)
    finally:
        t0 = time.perf_counter()
        _undo(marks=marks, started=started)
        print(f"   data put back as found ({time.perf_counter() - t0:.1f} s)")
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"   peak memory of this process: {figures['peak_rss_mb']:.0f} MB (target < 300 MB)")
    return figures


if __name__ == "__main__":
    from bench.__main__ import main

    raise SystemExit(main(["sla"]))
