"""REST API under load, as in production: gunicorn, DEBUG off, PostgreSQL, the shared data set.

What it does, in one run on one database:

1. starts gunicorn (production settings, DEBUG off) on 127.0.0.1 at a free port;
2. from a separate process (wrk, scripted in Lua), 16 keep-alive connections for a fixed
   time each:
   - POST /api/v1/tickets/ as the IVR would (token, Idempotency-Key, customer account),
   - GET /api/v1/tickets/ (first pages and follow-up cursor pages) with 1,000,000+ orders present;
3. pgbench: plain single-row INSERTs of an order-sized row into a scratch table, 16 clients,
   for the same time — what the database alone takes — and the ratio of the two;
4. profiles one create and one list page in-process: their SQL statements, each a round trip
   to the database (the SLA engine's part of the create named), and where the create's time
   goes.

Prints its figures and returns them. Leaves the data as it found it: the orders it created
(and their timers, events, idempotency keys), its client and the scratch table are deleted.
`make bench` (or `python -m bench api`) loads the shared data set first.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 16
# Seconds of measured load per phase (BENCH_API_SECONDS shortens a trial run).
CREATE_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "20"))
LIST_SECONDS = float(os.environ.get("BENCH_API_SECONDS", "15"))
WARMUP_SECONDS = 3.0
PGBENCH_SECONDS = int(os.environ.get("BENCH_API_SECONDS", "15"))
# Two cores shared with the database. Three sync workers measured best here when a create
# took three round trips (2026-11-27, alternating runs of 12 s: two workers 413, 460, 431
# creates/s; three 451, 455, 447, 446) and when it took nine: the third fills the moments
# when both others wait on the database. With five round trips two had measured best
# (463–495 against 445–488).
GUNICORN_WORKERS = int(os.environ.get("BENCH_API_WORKERS", "3"))
GUNICORN_THREADS = int(os.environ.get("BENCH_API_THREADS", "1"))
# sync: no keep-alive, but the kernel hands each new connection to whichever worker is free.
# gthread (keep-alive) cost a tenth less CPU a request here, yet pins each connection to one
# worker: the unlucky ones queue, and the create p99 went past 100 ms in two runs of two.
GUNICORN_WORKER_CLASS = os.environ.get(
    "BENCH_API_WORKER_CLASS", "sync" if GUNICORN_THREADS == 1 else "gthread"
)
BENCH_CLIENT = "bench-api-ivr"
# The targets (README, "Measured"): creates at 16 connections at least this share of the
# plain INSERTs the database takes in the same run, with this p99; the list at least this
# many pages a second at 16 connections, and this p50 for one client at a time.
CREATE_TO_INSERT_TARGET = 0.03
CREATE_P99_TARGET_MS = 150.0
LIST_RATE_TARGET = 300.0
LIST_ALONE_P50_TARGET_MS = 20.0

# --- The load generator: wrk (C, from Debian's packages), scripted in Lua ----------------------
#
# A load generator written in Python spends about as much CPU per request as a lean endpoint
# does, on the same two cores, and so lowers the figure it measures. wrk spends a few
# microseconds: what it measures is the server's.

WRK_SCRIPT = r"""
-- Written by bench/bench_api.py for one run: token, accounts, paths and run id are filled in.
local token = "%(token)s"
local run = "%(run)s"
local kind = "%(kind)s"
local accounts = {%(accounts)s}
local paths = {%(paths)s}
local threads = {}
local counter = 0
statuses = {}  -- global: done() reads it from each thread

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(thread_id * 7919)
end

function request()
  counter = counter + 1
  if kind == "create" then
    local body = '{"category":"repair","caller_phone":"13900000001",' ..
      '"description":"家里停电了，邻居家有电",' ..
      '"customer_account":"' .. accounts[math.random(#accounts)] .. '","channel":"ivr"}'
    return wrk.format("POST", "/api/v1/tickets/", {
      ["Authorization"] = "Token " .. token,
      ["Idempotency-Key"] = "bench-" .. run .. "-" .. thread_id .. "-" .. counter,
      ["Content-Type"] = "application/json",
    }, body)
  end
  return wrk.format("GET", paths[(counter - 1) %% #paths + 1], {["Authorization"] = "Token " .. token})
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[#counts + 1] = '"' .. status .. '":' .. count
    end
  end
  io.write(string.format(
    'RESULT {"requests":%%d,"seconds":%%.3f,"p50_us":%%d,"p99_us":%%d,"statuses":[{%%s}],' ..
    '"socket_errors":%%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    table.concat(counts, "},{"),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def _lua_strings(values: list[str]) -> str:
    return ", ".join(json.dumps(value) for value in values)


def _run_load(
    *,
    port: int,
    token: str,
    kind: str,
    seconds: float,
    concurrency: int,
    accounts: list[str],
    paths: list[str],
) -> dict[str, Any]:
    """Drive the server with wrk: `concurrency` keep-alive connections for `seconds`.

    Returns the requests answered per second, p50/p99 latency, the answers by status and the
    CPU wrk itself spent per request.
    """
    import resource

    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is missing: `make bench` installs it (apt-get install wrk)")
    script = WRK_SCRIPT % {
        "token": token,
        "run": uuid.uuid4().hex[:12],
        "kind": kind,
        "accounts": _lua_strings(accounts),
        "paths": _lua_strings(paths),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False, encoding="utf-8") as file:
        file.write(script)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        completed = subprocess.run(
            [
                wrk,
                "--threads",
                str(min(2, concurrency)),
                "--connections",
                str(concurrency),
                "--duration",
                f"{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "--script",
                file.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(file.name)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed: {completed.stdout[-2000:]} {completed.stderr[-2000:]}")
    raw = json.loads(lines[-1].removeprefix("RESULT "))
    statuses: dict[str, int] = {}
    for entry in raw["statuses"]:
        for code, count in entry.items():
            statuses[code] = statuses.get(code, 0) + count
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "requests": raw["requests"],
        "seconds": raw["seconds"],
        "per_second": raw["requests"] / raw["seconds"],
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "statuses": dict(sorted(statuses.items())),
        "errors": [f"{raw['socket_errors']} socket errors"] if raw["socket_errors"] else [],
        "client_cpu_ms": 1000 * cpu / max(raw["requests"], 1),
    }


def _cpu_seconds(select) -> dict[int, float]:
    """CPU seconds (user + system) of the processes `select(pid, stat_fields, cmdline)` picks."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if select(int(entry.name), fields, cmdline):
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _server_cpu(master_pid: int, database: str) -> dict[str, dict[int, float]]:
    """CPU so far of gunicorn's workers and of PostgreSQL's backends serving `database`."""
    return {
        "app": _cpu_seconds(lambda pid, fields, cmd: int(fields[1]) == master_pid),
        "db": _cpu_seconds(
            lambda pid, fields, cmd: cmd.startswith("postgres: ") and f" {database} " in cmd
        ),
    }


def _cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    return {
        part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in after[part].items())
        for part in after
    }


def _get(port: int, token: str, path: str) -> tuple[int, bytes]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers={"Authorization": f"Token {token}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- The server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_gunicorn(database_url: str, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings_production",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback, no TLS in front
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
        "DB_CONN_MAX_AGE": "600",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    log = tempfile.NamedTemporaryFile(prefix="bench-api-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115
    process = subprocess.Popen(
        [
            gunicorn,
            "--config",
            str(ROOT / "gunicorn.conf.py"),  # production's, flags below for the bench's choices
            "servicedesk.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(GUNICORN_WORKERS),
            "--threads",
            str(GUNICORN_THREADS),
            "--worker-class",
            GUNICORN_WORKER_CLASS,
            "--backlog",
            "256",
            "--log-level",
            "warning",
            "--error-logfile",
            log.name,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log_path = log.name  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {Path(log.name).read_text()[-2000:]}")
        try:
            status, _ = _get(port, "none", "/api/v1/tickets/")
            if status == 401:
                return process
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up in 60 s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log = Path(process.log_path)  # type: ignore[attr-defined]
    errors = log.read_text(errors="replace").strip() if log.exists() else ""
    if errors:
        print("   gunicorn said:\n      " + "\n      ".join(errors.splitlines()[-20:]))
    log.unlink(missing_ok=True)


# --- pgbench --------------------------------------------------------------------------------

PGBENCH_TABLE = "bench_api_plain_insert"
# The row an API create writes to tickets_ticket: same columns, values of the same size.
ORDER_ROW = {
    "number": "'202611270001234567'",
    "category": "'repair'",
    "channel": "'ivr'",
    "status": "'accepted'",
    "caller_phone": "'13900000001'",
    "call_at": "now()",
    "customer_id": "1",
    "address": "'供电区1解放路1号'",
    "description": "'家里停电了，邻居家有电'",
    "created_via": "'bench-api-ivr'",
    "service_area_id": "1",
    "area_type": "'urban'",
    "feeder": "'10kV1号线'",
    "transformer_area": "'台区1'",
    "asset_owner": "'utility'",
    "created_at": "now()",
    "updated_at": "now()",
}


def _pgbench_script() -> str:
    """INSERT INTO <scratch> (every NOT NULL column …) VALUES (…): other columns take NULL, as
    on a new order; defaults come from the model, so a new field does not break the bench."""
    from django.db import models

    from tickets.models import Ticket

    columns, values = [], []
    for field in Ticket._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.column in ORDER_ROW or field.name in ORDER_ROW:
            value = ORDER_ROW.get(field.column, ORDER_ROW.get(field.name))
        elif field.null:
            continue
        elif field.has_default():
            default = field.get_default()
            if isinstance(default, bool):
                value = "true" if default else "false"
            elif isinstance(default, int | float):
                value = str(default)
            else:  # a JSON field's list or dict is written as JSON text, like the ORM does
                text = json.dumps(default) if isinstance(default, list | dict) else str(default)
                value = "'" + text.replace("'", "''") + "'"
        elif isinstance(field, models.CharField | models.TextField):
            value = "''"
        else:
            raise ValueError(f"pgbench row: no value for {field.name}")
        columns.append(field.column)
        values.append(value)
    return f"INSERT INTO {PGBENCH_TABLE} ({', '.join(columns)}) VALUES ({', '.join(values)});\n"


def pgbench_inserts(database_url: str, *, seconds: int) -> float:
    """Plain single-row INSERTs per second of an order-sized row (16 clients, 2 threads)."""
    import dj_database_url
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PGBENCH_TABLE}")
        # Same columns and defaults as the orders table, a primary key, no other index.
        cursor.execute(
            f"CREATE TABLE {PGBENCH_TABLE} (LIKE tickets_ticket INCLUDING DEFAULTS INCLUDING IDENTITY)"
        )
        cursor.execute(f"ALTER TABLE {PGBENCH_TABLE} ADD PRIMARY KEY (id)")
    config = dj_database_url.parse(database_url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(_pgbench_script())
    try:
        completed = subprocess.run(
            [
                "pgbench",
                "-n",
                "-c",
                str(CONCURRENCY),
                "-j",
                "2",
                "-T",
                str(seconds),
                "-f",
                script.name,
                "-h",
                config["HOST"] or "127.0.0.1",
                "-p",
                str(config["PORT"] or 5432),
                "-U",
                config["USER"] or "postgres",
                config["NAME"],
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            env={**os.environ, "PGPASSWORD": config["PASSWORD"] or ""},
        )
    finally:
        os.unlink(script.name)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PGBENCH_TABLE}")
    for line in completed.stdout.splitlines():
        if line.startswith("tps = "):
            return float(line.split()[2])
    raise RuntimeError(f"pgbench failed: {completed.stdout[-1000:]} {completed.stderr[-1000:]}")


# --- Profile of one create --------------------------------------------------------------------


def profile_create(token: str, account: str) -> dict[str, Any]:
    """One create in-process (Django's test client, no network): its SQL and its time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from psycopg2.extensions import TRANSACTION_STATUS_IDLE

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    body = {
        "category": "repair",
        "caller_phone": "13900000001",
        "description": "家里停电了，邻居家有电",
        "customer_account": account,
        "channel": "ivr",
    }

    def create() -> int:
        response = client.post(
            "/api/v1/tickets/",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"bench-profile-{uuid.uuid4().hex}",
        )
        return response.status_code

    for _ in range(20):  # warm caches (SLA rules, translations, URL resolver)
        create()
    waited: list[float] = []
    opened: list[bool] = []
    askers: list[str] = []

    def timed(execute, sql, params, many, context):
        # Whether the driver sends a BEGIN ahead of this statement (autocommit off, no
        # transaction open yet): Django's query log lists BEGIN and COMMIT either way.
        raw = context["connection"].connection
        opened.append(not raw.autocommit and raw.info.transaction_status == TRANSACTION_STATUS_IDLE)
        askers.append(_asked_by())
        # Time spent waiting for the database, unrounded (captured_queries keeps milliseconds).
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited.append(time.perf_counter() - began)

    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
        began = time.perf_counter()
        status = create()
        elapsed = time.perf_counter() - began
    statements = [
        q["sql"]
        for q in queries.captured_queries
        if any(opened) or q["sql"] not in ("BEGIN", "COMMIT")  # those the driver sent
    ]
    sql_seconds = sum(waited)

    timings = []
    for _ in range(200):
        began = time.perf_counter()
        create()
        timings.append(time.perf_counter() - began)
    profile_text = ""
    try:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(200):
            create()
        profiler.stop()
        profile_text = profiler.output_text(unicode=False, color=False, show_all=False)
    except ImportError:
        pass
    return {
        "status": status,
        "statements": statements,
        "askers": askers,
        "sql_ms": 1000 * sql_seconds,
        "first_ms": 1000 * elapsed,
        "median_ms": 1000 * statistics.median(timings),
        "profile": profile_text,
    }


def profile_list(token: str) -> dict[str, Any]:
    """One first page of the list in-process: its statements, their time, the median of 200."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    for _ in range(20):  # warm caches (translations, URL resolver, the planner's statistics)
        client.get("/api/v1/tickets/")
    waited: list[float] = []

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            waited.append(time.perf_counter() - began)

    timings = []
    for _ in range(200):
        began = time.perf_counter()
        client.get("/api/v1/tickets/")
        timings.append(time.perf_counter() - began)
    with CaptureQueriesContext(connection) as queries, connection.execute_wrapper(timed):
        client.get("/api/v1/tickets/")
    return {
        "statements": [_statement_kind(q["sql"]) for q in queries.captured_queries],
        "sql_ms": 1000 * sum(waited),
        "median_ms": 1000 * statistics.median(timings),
    }


def _statement_kind(sql: str) -> str:
    """ "INSERT tickets_ticket", "SAVEPOINT", … — the verb and the table of a statement."""
    words = sql.replace('"', " ").replace(",", " ").replace("(", " ").split()
    verb = words[0].upper()
    if verb in ("SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"):
        return verb
    prefixes = ("tickets_", "sla_", "api_", "customers_", "calls_")
    table = next((w.split(".")[0] for w in words if w.startswith(prefixes)), "")
    return f"{verb} {table}".strip()


def _asked_by() -> str:
    """The project functions that sent the statement being executed: the innermost frame of
    the project's own code (not Django's, not the bench's) and the one that called it, as
    "api.selectors.one_or_none from api.authentication.authenticate"."""
    root = f"{ROOT}{os.sep}"
    found: list[str] = []
    frame = sys._getframe(2)
    while frame is not None and len(found) < 2:
        path = frame.f_code.co_filename
        if path.startswith(root) and not path.startswith((f"{root}bench{os.sep}", f"{root}.venv")):
            module = path[len(root) :].removesuffix(".py").replace(os.sep, ".")
            found.append(f"{module}.{frame.f_code.co_name}")
        frame = frame.f_back
    return " from ".join(found)


# Who a statement is for, by the top-level package of the function that sent it.
_LAYERS = {"api": "API", "tickets": "tickets service", "sla": "SLA engine"}


def _statement_owners(statements: list[str], askers: list[str]) -> list[tuple[str, str, str]]:
    """(kind, layer, function) of each statement, in order. Each is one round trip to the
    database. `askers` lists the sender of each statement that went through a cursor, in
    order; BEGIN and COMMIT, which the transaction sends, go without one."""
    owners = []
    senders = iter(askers)
    for sql in statements:
        kind = _statement_kind(sql)
        if kind in ("BEGIN", "COMMIT", "ROLLBACK"):
            owners.append((kind, "API", "the Idempotency-Key's transaction"))
            continue
        sender = next(senders, "")
        owners.append((kind, _LAYERS.get(sender.split(".")[0], "other"), sender))
    return owners


# --- Data and cleanup -------------------------------------------------------------------------


def _delete_orders_after(last_id: int) -> int:
    """Delete the orders with id > last_id and everything hanging off them, children first,
    with set-based SQL (the ORM would load every row to cascade)."""
    from django.db import connection, models, transaction

    from tickets.models import Ticket

    qn = connection.ops.quote_name

    def delete(model, where: str, params: list[Any], seen: tuple = ()) -> int:
        table = qn(model._meta.db_table)
        for rel in model._meta.related_objects:
            if rel.many_to_many or rel.related_model in seen or rel.related_model is model:
                continue
            child = rel.related_model
            column = qn(rel.field.column)
            subquery = f"{column} IN (SELECT id FROM {table} WHERE {where})"
            if rel.on_delete is models.CASCADE:
                delete(child, subquery, params, (*seen, model))
            elif rel.on_delete is models.SET_NULL:
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {qn(child._meta.db_table)} SET {column} = NULL WHERE {subquery}",
                        params,
                    )
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
            return cursor.rowcount

    with transaction.atomic():
        return delete(Ticket, "id > %s", [last_id])


def _sequence_reset(last_id: int) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s, %s)",
            [max(last_id, 1), last_id > 0],
        )


# --- The run ----------------------------------------------------------------------------------


def _drive(
    port: int, token: str, accounts: list[str], *, server_pid: int, database: str
) -> dict[str, Any]:
    """The two load phases against the running server, with the CPU each request cost.

    Other work on the machine slows the measured rates down; the CPU seconds that the app's
    workers and the database's backends spent per request do not depend on it, and tell
    what two dedicated cores could serve.
    """
    results: dict[str, Any] = {}
    # Cursor pages deep into the list: the 2nd to 20th page of the default order and of
    # the open repairs, gathered once so the load mixes first and follow-up pages.
    paths = [
        "/api/v1/tickets/",
        "/api/v1/tickets/?category=repair&status=dispatched",
        "/api/v1/tickets/?breached=true",
        "/api/v1/tickets/?area_type=rural",
    ]
    next_url = "/api/v1/tickets/"
    for _ in range(20):
        status, body = _get(port, token, next_url)
        page = json.loads(body)
        if status != 200 or not page.get("next"):
            break
        parts = urlsplit(page["next"])
        next_url = f"{parts.path}?{parts.query}"
        paths.append(next_url)

    common = {
        "port": port,
        "token": token,
        "concurrency": CONCURRENCY,
        "accounts": accounts,
        "paths": paths,
    }
    for kind, seconds in (("create", CREATE_SECONDS), ("list", LIST_SECONDS)):
        # Warm every worker first (imports, URL resolver, catalogues, connections), so the
        # CPU accounted below is the steady state's.
        _run_load(kind=kind, seconds=WARMUP_SECONDS, **common)
        before = _server_cpu(server_pid, database)
        outcome = _run_load(kind=kind, seconds=seconds, **common)
        used = _cpu_used(before, _server_cpu(server_pid, database))
        requests = max(outcome["requests"], 1)
        outcome["app_cpu_ms"] = 1000 * used["app"] / requests
        outcome["db_cpu_ms"] = 1000 * used["db"] / requests
        # What two cores would serve if they did nothing but this: app and database CPU.
        outcome["two_core_capacity"] = 2000 / (outcome["app_cpu_ms"] + outcome["db_cpu_ms"])
        results[kind] = outcome
    # The time one request takes when the server is not queueing: a single client.
    results["list_alone"] = _run_load(
        kind="list", seconds=LIST_SECONDS / 3, **{**common, "concurrency": 1}
    )
    return results


def run(*, database_url: str) -> dict[str, float]:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    import django

    django.setup()
    from django.db import connection

    from api.models import ApiClient, Scope
    from api.services import api_client_create
    from customers.models import Customer
    from tickets.models import Ticket

    # Before any load of ours: what the rest of the machine is doing (tests, other work).
    load_before = os.getloadavg()
    orders_present = Ticket.objects.count()
    last_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    accounts = (
        list(Customer.objects.order_by("?").values_list("account_number", flat=True)[:1000])
        if Customer.objects.count() < 10_000
        else list(
            Customer.objects.filter(
                pk__in=random.Random(7).sample(range(1, 1_000_000), 1000)
            ).values_list("account_number", flat=True)
        )
    )
    ApiClient.objects.filter(name=BENCH_CLIENT).delete()
    client, token = api_client_create(name=BENCH_CLIENT, scopes=list(Scope.values))
    with connection.cursor() as cursor:
        # Other benchmarks of the same run bulk-change these tables and undo it, leaving
        # dead rows in every index the creates write to (a create ran at a third of its
        # rate then) and stale statistics; a production database has autovacuum for both.
        cursor.execute(
            "VACUUM ANALYZE tickets_ticket, tickets_ticketevent, sla_timer, sla_breach, "
            "api_idempotencyrecord"
        )
    connection.close()  # gunicorn's workers and pgbench get the database to themselves

    results: dict[str, Any] = {}
    database = connection.settings_dict["NAME"]
    try:
        # The insert rate before and after the load: on a shared machine it drifts by a
        # fifth from minute to minute; the mean of the two is what the creates are compared
        # with, and both are printed.
        insert_rates = [pgbench_inserts(database_url, seconds=PGBENCH_SECONDS)]
        port = _free_port()
        server = _start_gunicorn(database_url, port)
        try:
            results.update(_drive(port, token, accounts, server_pid=server.pid, database=database))
        finally:
            _stop(server)
        insert_rates.append(pgbench_inserts(database_url, seconds=PGBENCH_SECONDS))
        insert_rate = statistics.mean(insert_rates)
        profile = profile_create(token, accounts[0])
        page_profile = profile_list(token)
    finally:
        # Leave the data as found, whatever happened above.
        created = Ticket.objects.filter(id__gt=last_id).count()
        deleted = _delete_orders_after(last_id)
        _sequence_reset(last_id)
        ApiClient.objects.filter(pk=client.pk).delete()

    create, listing = results["create"], results["list"]
    alone = results["list_alone"]
    ratio = create["per_second"] / insert_rate
    owners = _statement_owners(profile["statements"], profile["askers"])
    sla_statements = sum(1 for _kind, layer, _sender in owners if layer == "SLA engine")

    def verdict(met: bool) -> str:
        return "met" if met else "MISSED"

    load_after = os.getloadavg()
    print(
        f"   orders present: {orders_present:,}; gunicorn {GUNICORN_WORKERS} {GUNICORN_WORKER_CLASS} "
        f"workers x {GUNICORN_THREADS} thread(s), DEBUG off; load: wrk, {CONCURRENCY} connections; "
        f"machine load average {load_after[0]:.1f} on {os.cpu_count()} cores "
        f"(1, 5, 15 min: {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f} before the "
        f"run, {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f} after)"
    )
    for label, figures, seconds, target in (
        (
            "create  POST /api/v1/tickets/ (token, Idempotency-Key, account lookup)",
            create,
            CREATE_SECONDS,
            f"target p99 < {CREATE_P99_TARGET_MS:.0f} ms: "
            + verdict(create["p99_ms"] < CREATE_P99_TARGET_MS),
        ),
        (
            "list    GET /api/v1/tickets/ (first and cursor pages, filters)",
            listing,
            LIST_SECONDS,
            f"target >= {LIST_RATE_TARGET:.0f}/s: "
            + verdict(listing["per_second"] >= LIST_RATE_TARGET),
        ),
    ):
        print(
            f"   {label}: {figures['per_second']:.0f}/s, p50 {figures['p50_ms']:.1f} ms, "
            f"p99 {figures['p99_ms']:.1f} ms over {seconds:.0f} s, answers {figures['statuses']} "
            f"({target})"
        )
        print(
            f"      CPU per request: app {figures['app_cpu_ms']:.2f} ms + database {figures['db_cpu_ms']:.2f} ms "
            f"-> two dedicated cores would serve {figures['two_core_capacity']:.0f}/s "
            f"(the load generator itself: {figures['client_cpu_ms']:.2f} ms)"
        )
    print(
        f"   list, one client at a time: {alone['per_second']:.0f}/s, p50 {alone['p50_ms']:.1f} ms, "
        f"p99 {alone['p99_ms']:.1f} ms (target p50 < {LIST_ALONE_P50_TARGET_MS:.0f} ms: "
        f"{verdict(alone['p50_ms'] < LIST_ALONE_P50_TARGET_MS)})"
    )
    print(
        f"   pgbench plain single-row INSERT of an order-sized row, 16 clients: {insert_rate:.0f}/s "
        f"(before the load {insert_rates[0]:.0f}/s, after {insert_rates[1]:.0f}/s)"
    )
    print(
        f"   create rate / insert rate: {100 * ratio:.1f} % (target >= {100 * CREATE_TO_INSERT_TARGET:.0f} %: "
        f"{verdict(ratio >= CREATE_TO_INSERT_TARGET)}); "
        f"at two-core capacity: {100 * create['two_core_capacity'] / insert_rate:.1f} %"
    )
    print(
        f"   one create: {len(owners)} SQL statements, each a round trip to the database "
        f"({sla_statements} by the SLA engine), {profile['sql_ms']:.1f} ms in SQL of "
        f"{profile['first_ms']:.1f} ms in-process (median of 200: {profile['median_ms']:.1f} ms); "
        f"answered {profile['status']}"
    )
    for number, (kind, layer, sender) in enumerate(owners, start=1):
        print(f"      {number:2d}. {kind:28s} {layer:16s} {sender}")
    if profile["profile"]:
        print("   where the time of 200 in-process creates goes (pyinstrument, abridged):")
        for line in profile["profile"].splitlines()[:60]:
            print("      " + line)
    print(
        f"   one list page: {len(page_profile['statements'])} SQL statements, each a round trip "
        f"({', '.join(page_profile['statements'])}), {page_profile['sql_ms']:.1f} ms in SQL; "
        f"in-process median of 200: {page_profile['median_ms']:.1f} ms"
    )
    for phase, figures in results.items():
        if figures["errors"]:
            print(f"   {phase} load errors: {figures['errors']}")
    print(
        f"   cleanup: {created:,} orders created by the bench, {deleted:,} deleted with their timers and events"
    )
    return {
        "orders_present": float(orders_present),
        "create_per_second": create["per_second"],
        "create_p50_ms": create["p50_ms"],
        "create_p99_ms": create["p99_ms"],
        "list_per_second": listing["per_second"],
        "list_p50_ms": listing["p50_ms"],
        "list_p99_ms": listing["p99_ms"],
        "list_alone_p50_ms": alone["p50_ms"],
        "insert_per_second": insert_rate,
        "create_to_insert_ratio": ratio,
        "create_round_trips": float(len(owners)),
        "create_sla_round_trips": float(sla_statements),
        "list_round_trips": float(len(page_profile["statements"])),
        "create_cpu_ms": create["app_cpu_ms"] + create["db_cpu_ms"],
        "create_two_core_capacity": create["two_core_capacity"],
        "list_cpu_ms": listing["app_cpu_ms"] + listing["db_cpu_ms"],
        "list_two_core_capacity": listing["two_core_capacity"],
    }


def main(argv: list[str]) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(["api"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
