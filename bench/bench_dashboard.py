"""Supervisor dashboard on a year of a provincial centre: 2,000,000 orders, 5,000,000 calls.

Prints the server time of the wallboard's live refresh (target < 100 ms) and of a 30-day
period report (target < 500 ms), measured in-process with Django's test client as a
signed-in supervisor (no network, no browser: the time the server spends). Reads only:
the data is left as found (the supervisor user it signs in with is created once and kept).

`make bench` loads the shared data set (bench/data.py) before calling `run`. Run on its own
(`python -m bench.bench_dashboard`), `ensure_data` generates a data set of its own with
set-based SQL when the database holds fewer orders than asked for: unlike the shared one, it
keeps the finished timers and breaches of the whole year, which the period report reads.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import timedelta
from typing import Any

N_CALLS = 5_000_000
N_ORDERS = 2_000_000
DAYS = 365


def _setup(database_url: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ["DATABASE_URL"] = database_url
    import django
    from django.conf import settings

    if not settings.configured or not getattr(settings, "_dashboard_bench_ready", False):
        django.setup()
        settings._dashboard_bench_ready = True


def _literal(value: Any) -> str:
    import json

    from django.db import connection

    if isinstance(value, (dict, list)):
        return _literal(json.dumps(value)) + "::jsonb"
    with connection.cursor() as cur:
        return cur.mogrify("%s", [value]).decode()


def _select_list(model, explicit: dict[str, str]) -> tuple[str, str]:
    """Column list and SELECT expressions: `explicit` SQL where given, else the field default.

    Reading the defaults from the model keeps the generator working when a column is added.
    """
    columns, exprs = [], []
    for field in model._meta.concrete_fields:
        column = field.column
        if column in explicit:
            if explicit[column] is None:
                continue
            exprs.append(explicit[column])
        elif field.null:
            exprs.append("NULL")
        else:
            value = field.get_default()
            if value is None:
                raise RuntimeError(f"No value for {model.__name__}.{column}")
            exprs.append(_literal(value))
        columns.append(column)
    return ", ".join(columns), ", ".join(exprs)


def ensure_data(
    *, orders: int = N_ORDERS, calls: int = N_CALLS, days: int = DAYS
) -> dict[str, int]:
    """Generate `calls` calls and about `orders` orders over the last `days` days, ending now.

    Calls: 85 % answered (wait 0-40 s), 12 % abandoned, the rest short; a handful still
    ringing now. Orders: taken on about 47 % of the answered calls; 40 % repairs; the last
    three hours' orders still open with running timers; timers and breaches as the SLA
    engine would have left them. Skipped when the database already holds the orders.
    """
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction

    from calls.models import Call
    from customers.models import AreaType, HandlingUnit, ServiceArea
    from sla.models import Breach, SlaRule, Timer
    from tickets.models import Ticket

    have = Ticket.objects.count()
    if have >= orders * 0.95:
        return {"orders": have, "calls": Call.objects.count(), "generated": 0}
    started = time.perf_counter()
    print(f"  generating {calls:,} calls and ~{orders:,} orders over {days} days …", flush=True)
    agent_group = Group.objects.get(name="agent")
    agents = list(
        User.objects.filter(username__startswith="bench-agent-").values_list("pk", flat=True)
    )
    if not agents:
        User.objects.bulk_create(
            [User(username=f"bench-agent-{i:03d}", first_name=f"坐席{i:03d}") for i in range(200)]
        )
        agents = list(
            User.objects.filter(username__startswith="bench-agent-").values_list("pk", flat=True)
        )
        agent_group.user_set.add(*agents)
    units: dict[str, list[int]] = {}
    areas: dict[str, list[int]] = {}
    for kind, count in (("urban", 12), ("rural", 10), ("remote", 6)):
        for i in range(count):
            crew, _ = HandlingUnit.objects.get_or_create(
                code=f"bench-crew-{kind}-{i}",
                defaults={
                    "name": f"抢修班 {kind} {i}",
                    "kind": HandlingUnit.Kind.CREW,
                    "categories": ["repair"],
                },
            )
            area, _ = ServiceArea.objects.get_or_create(
                code=f"bench-area-{kind}-{i}",
                defaults={
                    "name": f"供电区 {kind} {i}",
                    "area_type": kind,
                    "crew": crew,
                    "households": 40000 if kind == "urban" else 15000,
                },
            )
            units.setdefault(kind, []).append(crew.pk)
            areas.setdefault(kind, []).append(area.pk)
    dept, _ = HandlingUnit.objects.get_or_create(
        code="bench-dept",
        defaults={
            "name": "客户服务部",
            "kind": HandlingUnit.Kind.DEPARTMENT,
            "categories": ["inquiry", "application", "complaint", "report"],
        },
    )
    rules = {
        (r.name, r.category, r.area_type): r.pk for r in SlaRule.objects.filter(is_active=True)
    }

    def rule(name: str, category: str = "", area: str = "") -> int:
        return (
            rules.get((name, category, area))
            or SlaRule.objects.filter(name=name).values_list("pk", flat=True)[0]
        )

    def arr(ids: list[int]) -> str:
        return "ARRAY[" + ",".join(str(i) for i in ids) + "]::bigint[]"

    call_t, ticket_t, timer_t, breach_t = (m._meta.db_table for m in (Call, Ticket, Timer, Breach))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL work_mem = '256MB'")
        cur.execute(
            "CREATE OR REPLACE FUNCTION pg_temp.h(g bigint, salt int) RETURNS bigint "
            "LANGUAGE sql IMMUTABLE AS $$ SELECT abs(hashtextextended(g::text, salt)) $$"
        )
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {call_t}")
        call_base = cur.fetchone()[0]
        # --- calls ------------------------------------------------------------------------
        cols, exprs = _select_list(
            Call,
            {
                "id": f"{call_base} + g",
                "call_id": "'bench-' || g",
                "caller_phone": "'139' || lpad((pg_temp.h(g, 1) % 1500000)::text, 8, '0')",
                "agent_id": f"CASE WHEN u < 0.88 AND NOT ringing THEN ({arr(agents)})[1 + pg_temp.h(g, 2) % {len(agents)}] END",
                "ring_at": "ring",
                "answer_at": "CASE WHEN u < 0.85 AND NOT ringing THEN ring + (pg_temp.h(g, 3) % 40000) * interval '1 ms' END",
                "hangup_at": """CASE WHEN ringing THEN NULL
                                 WHEN u < 0.85 THEN ring + (40 + pg_temp.h(g, 4) % 560) * interval '1 s'
                                 ELSE ring + (pg_temp.h(g, 5) % 60000) * interval '1 ms' END""",
                "disposition": "CASE WHEN u < 0.85 THEN 'order' ELSE 'silent' END",
                "created_at": "ring",
            },
        )
        cur.execute(f"""
            INSERT INTO {call_t} ({cols})
            SELECT {exprs} FROM (
                SELECT g, (pg_temp.h(g, 7) % 1000) / 1000.0 AS u, g > {calls} - 20 AS ringing,
                       CASE WHEN g > {calls} - 20 THEN now() - ({calls} + 1 - g) * interval '3 s'
                            ELSE now() - interval '{days} days' * (1 - g::float8 / {calls}) - interval '2 min' END AS ring
                FROM generate_series(1, {calls}) g
            ) s
        """)
        print(f"    calls done in {time.perf_counter() - started:.0f} s", flush=True)

        # --- orders -------------------------------------------------------------------------
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {ticket_t}")
        ticket_base = cur.fetchone()[0]
        share = min(10000, round(10000 * orders / (calls * 0.85)))  # per 10,000 answered calls

        def by_area(ids: dict[str, list[int]]) -> str:
            return (
                f"CASE WHEN a < 60 THEN ({arr(ids['urban'])})[1 + h % {len(ids['urban'])}] "
                f"WHEN a < 90 THEN ({arr(ids['rural'])})[1 + h % {len(ids['rural'])}] "
                f"ELSE ({arr(ids['remote'])})[1 + h % {len(ids['remote'])}] END"
            )

        cols, exprs = _select_list(
            Ticket,
            {
                "id": f"{ticket_base} + n",
                "number": f"to_char(created, 'YYYYMMDD') || lpad(({ticket_base} + n)::text, 10, '0')",
                "category": "cat",
                "status": "CASE WHEN fresh AND dispatched THEN 'dispatched' ELSE 'archived' END",
                "caller_phone": "caller_phone",
                "call_at": "ring_at",
                "description": "'bench'",
                "area_type": "CASE WHEN a < 60 THEN 'urban' WHEN a < 90 THEN 'rural' ELSE 'remote' END",
                "owner_id": "agent_id",
                "call_id": "call_pk",
                "created_at": "created",
                "updated_at": "created",
                "handling_unit_id": f"CASE WHEN cat = 'repair' THEN {by_area(units)} WHEN dispatched THEN {dept.pk} END",
                "service_area_id": by_area(areas),
                "dispatched_at": "CASE WHEN dispatched THEN hangup_at + (h % 200) * interval '1 s' END",
                "acknowledged_at": "CASE WHEN dispatched AND NOT fresh THEN hangup_at + interval '8 min' END",
                "arrived_at": """CASE WHEN cat = 'repair' AND NOT fresh
                                  THEN hangup_at + (h % 200) * interval '1 s' + (h % 3000) * interval '1 s' END""",
                "restored_at": """CASE WHEN cat = 'repair' AND NOT fresh
                                   THEN hangup_at + interval '3 hours' + (h % 3600) * interval '1 s' END""",
                "resolved_at": "CASE WHEN NOT fresh OR NOT dispatched THEN created + interval '4 hours' END",
                "replied_at": """CASE WHEN cat IN ('complaint', 'report') AND NOT fresh
                                  THEN created + (h % 500000) * interval '1 s' END""",
                "visited_at": "CASE WHEN NOT fresh AND h % 10 < 7 THEN created + interval '2 days' END",
                "archived_at": "CASE WHEN NOT fresh THEN created + interval '3 days' END",
                "satisfaction": """CASE WHEN fresh OR h % 10 >= 7 THEN ''
                                    WHEN h % 100 < 60 THEN 'very_satisfied' WHEN h % 100 < 94 THEN 'satisfied'
                                    WHEN h % 100 < 97 THEN 'neutral' ELSE 'dissatisfied' END""",
                "feeder": "'F' || (h % 3000)",
                "transformer_area": "'TA' || (h % 20000)",
                "supervised": "(fresh AND h % 20 = 0)",
                "call_count": "CASE WHEN fresh AND h % 10 = 0 THEN 3 ELSE 1 END",
                "party": "CASE WHEN cat IN ('complaint', 'report') THEN 'bench' ELSE '' END",
            },
        )
        cur.execute(f"""
            INSERT INTO {ticket_t} ({cols})
            SELECT {exprs} FROM (
                SELECT c1.*, (c1.cat <> 'inquiry' OR c1.h % 10 < 3) AS dispatched FROM (
                    SELECT c.id AS call_pk, c.caller_phone, c.agent_id, c.ring_at, c.hangup_at,
                           row_number() OVER (ORDER BY c.id) AS n,
                           c.answer_at + interval '50 s' AS created,
                           pg_temp.h(c.id, 11) AS h,
                           pg_temp.h(c.id, 12) % 100 AS a,
                           CASE WHEN pg_temp.h(c.id, 13) % 100 < 40 THEN 'repair'
                                WHEN pg_temp.h(c.id, 13) % 100 < 70 THEN 'inquiry'
                                WHEN pg_temp.h(c.id, 13) % 100 < 85 THEN 'application'
                                WHEN pg_temp.h(c.id, 13) % 100 < 95 THEN 'complaint'
                                ELSE 'report' END AS cat,
                           c.ring_at > now() - interval '3 hours' AS fresh
                    FROM {call_t} c
                    WHERE c.id > {call_base} AND c.answer_at IS NOT NULL AND pg_temp.h(c.id, 14) % 10000 < {share}
                ) c1
            ) c2
        """)
        for table in (ticket_t, call_t):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
            )
        # Child orders: every 40th repair is a second order about its predecessor's fault.
        cur.execute(f"""UPDATE {ticket_t} SET master_id = id - 1, status = 'merged'
                        WHERE id > {ticket_base} + 1 AND category = 'repair' AND id % 40 = 0""")
        print(f"    orders done in {time.perf_counter() - started:.0f} s", flush=True)

        # --- timers and breaches ---------------------------------------------------------------
        cols, exprs = _select_list(
            Timer,
            {
                "id": None,
                "ticket_id": "t.id",
                "name": "x.name",
                "rule_id": "x.rule_id",
                "started_at": "x.started",
                "due_at": "x.due",
                "at_risk_at": "x.started + (x.due - x.started) * 0.8",
                "stopped_at": "x.stopped",
                "breached_at": "CASE WHEN COALESCE(x.stopped, now()) > x.due THEN x.due END",
                "category": "t.category",
                "area_type": "t.area_type",
                "handling_unit_id": "t.handling_unit_id",
                "owner_id": "t.owner_id",
                "is_important": "t.is_important",
            },
        )
        arrival = {a: rule("arrival", "repair", a) for a in AreaType.values}
        cur.execute(f"""
            INSERT INTO {timer_t} ({cols})
            SELECT {exprs}
            FROM {ticket_t} t
            JOIN {call_t} c ON c.id = t.call_id
            CROSS JOIN LATERAL (VALUES
                ('dispatch', {rule("dispatch")}, c.hangup_at, c.hangup_at + interval '3 min', t.dispatched_at,
                 t.dispatched_at IS NOT NULL),
                ('arrival', CASE t.area_type WHEN 'urban' THEN {arrival["urban"]}
                            WHEN 'rural' THEN {arrival["rural"]} ELSE {arrival["remote"]} END,
                 t.dispatched_at,
                 t.dispatched_at + CASE t.area_type WHEN 'urban' THEN interval '40 min'
                                  WHEN 'rural' THEN interval '85 min' ELSE interval '120 min' END,
                 t.arrived_at, t.category = 'repair' AND t.dispatched_at IS NOT NULL),
                ('reply', CASE t.category WHEN 'complaint' THEN {rule("reply", "complaint")}
                          ELSE {rule("reply", "report")} END, t.created_at,
                 t.created_at + CASE t.category WHEN 'complaint' THEN interval '5 days' ELSE interval '10 days' END,
                 t.replied_at, t.category IN ('complaint', 'report'))
            ) AS x(name, rule_id, started, due, stopped, applies)
            WHERE t.id > {ticket_base} AND x.applies AND t.master_id IS NULL
        """)
        cols, exprs = _select_list(
            Breach,
            {
                "id": None,
                "ticket_id": "tm.ticket_id",
                "timer_id": "tm.id",
                "name": "tm.name",
                "occurred_at": "tm.due_at",
                "recorded_at": "tm.due_at + interval '3 s'",
                "category": "tm.category",
                "area_type": "tm.area_type",
                "handling_unit_id": "tm.handling_unit_id",
                "owner_id": "tm.owner_id",
                "acknowledged_at": "CASE WHEN tm.due_at < now() - interval '1 day' THEN tm.due_at + interval '1 hour' END",
                "acknowledgement": "CASE WHEN tm.due_at < now() - interval '1 day' THEN 'bench' ELSE '' END",
            },
        )
        cur.execute(f"""INSERT INTO {breach_t} ({cols})
                        SELECT {exprs} FROM {timer_t} tm
                        WHERE tm.breached_at IS NOT NULL AND tm.ticket_id > {ticket_base}""")
    with connection.cursor() as cur:
        for model in (Call, Ticket, Timer, Breach):
            cur.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    took = time.perf_counter() - started
    counts = {"orders": Ticket.objects.count(), "calls": Call.objects.count(), "generated": 1}
    print(
        f"  generated {counts['orders']:,} orders and {counts['calls']:,} calls in {took:.0f} s",
        flush=True,
    )
    return counts


def _supervisor():
    from django.contrib.auth.models import Group, User

    user, created = User.objects.get_or_create(
        username="bench-supervisor", defaults={"first_name": "值班长"}
    )
    if created:
        user.groups.add(Group.objects.get(name="supervisor"))
    return user


def _time_requests(client, url: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return times


def run(*, database_url: str) -> dict[str, float]:
    _setup(database_url)
    from django.test import Client
    from django.utils import timezone

    from calls.models import Call
    from dashboard.metrics import period_metrics
    from tickets.models import Ticket

    print(f"dashboard: {Ticket.objects.count():,} orders and {Call.objects.count():,} calls in the database")
    client = Client()
    client.force_login(_supervisor())
    # Warm the caches once, as a wall screen that has been refreshing all shift would have.
    _time_requests(client, "/dashboard/live/", 2)
    live = _time_requests(client, "/dashboard/live/", 30)
    end = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    query = f"?start={start.date().isoformat()}&end={(end - timedelta(days=1)).date().isoformat()}"
    _time_requests(client, "/dashboard/report/" + query, 1)
    report = _time_requests(client, "/dashboard/report/" + query, 5)
    metrics_times = []
    for _ in range(5):
        started = time.perf_counter()
        period_metrics(start=start, end=end)
        metrics_times.append((time.perf_counter() - started) * 1000)
    figures = {
        "wallboard_refresh_p50_ms": statistics.median(live),
        "wallboard_refresh_p95_ms": sorted(live)[int(len(live) * 0.95) - 1],
        "report_30_days_p50_ms": statistics.median(report),
        "report_30_days_max_ms": max(report),
        "period_metrics_30_days_p50_ms": statistics.median(metrics_times),
    }
    print(
        f"  wallboard refresh (/dashboard/live/): median {figures['wallboard_refresh_p50_ms']:.1f} ms, "
        f"p95 {figures['wallboard_refresh_p95_ms']:.1f} ms over {len(live)} requests (target < 100 ms)"
    )
    print(
        f"  30-day period report page: median {figures['report_30_days_p50_ms']:.1f} ms, "
        f"slowest {figures['report_30_days_max_ms']:.1f} ms over {len(report)} requests (target < 500 ms)"
    )
    print(
        f"  period_metrics alone for 30 days (the API's figures): median "
        f"{figures['period_metrics_30_days_p50_ms']:.1f} ms"
    )
    return figures


if __name__ == "__main__":
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_dashboard_bench")
    _setup(url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    ensure_data()
    run(database_url=url)
