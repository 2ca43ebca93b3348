"""The return-visit queue (回访) on a provincial centre's data: 2,000,000 orders.

Every order of the shared data set left `resolved` (about one in six of the closed ones,
some 166,000) gets a running visit clock due 24 h after its resolution — a backlog far
larger than any centre keeps, most of it overdue — so the queue's "nearest deadline
first" has to find its page among them. Then 200 requests of the queue page as a
supervisor through Django's test Client (routing, middleware, session, view, selectors,
template, database; no network), after a warm-up: p50 / p95 (target p95 < 100 ms), and
the EXPLAIN of the queue's clock query. The clocks it adds are deleted at the end.
"""

from __future__ import annotations

import re
import statistics
import time

from bench.data import Spec, django_setup, ensure_data, insert_select

REQUESTS = 200
WARM_UP = 20
TARGET_P95_MS = 100.0
# Marks the clocks this benchmark adds (a running clock is never paused with this reason).
MARK = "bench-visits"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return p50, p95


def _add_visit_clocks() -> int:
    from django.db import connection

    from sla.models import SlaRule, Timer

    rule = SlaRule.objects.filter(name="visit", is_active=True).order_by("pk").first()
    if rule is None:  # the seed migration (sla 0008) was rolled back: nothing to measure
        return 0
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sla_timer WHERE name = 'visit' AND pause_reason = %s", [MARK])
    resolved = "coalesce(t.resolved_at, t.created_at)"
    added = insert_select(
        Timer,
        {
            "ticket_id": "t.id",
            "name": "'visit'",
            "rule_id": str(rule.pk),
            "started_at": resolved,
            "due_at": f"{resolved} + interval '24 hours'",
            "at_risk_at": f"{resolved} + interval '19 hours 12 minutes'",
            "pause_reason": f"'{MARK}'",
            "category": "t.category",
            "area_type": "t.area_type",
            "handling_unit_id": "t.handling_unit_id",
            "owner_id": "t.owner_id",
            "is_important": "t.is_important",
        },
        "FROM tickets_ticket t WHERE t.status = 'resolved'",
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sla_timer")
    return added


def _remove_visit_clocks() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sla_timer WHERE name = 'visit' AND pause_reason = %s", [MARK])


def _explain() -> None:
    from sla.models import Timer, TimerName

    queryset = (
        Timer.objects.filter(name=TimerName.VISIT, stopped_at__isnull=True)
        .select_related("ticket", "ticket__handling_unit")
        .order_by("due_at", "id")[:50]
    )
    plan = queryset.explain()
    indexes = list(
        dict.fromkeys(
            re.findall(
                r"(?:Index Scan (?:Backward )?using|Index Only Scan using|Bitmap Index Scan on) (\S+)",
                plan,
            )
        )
    )
    verdict = "SEQUENTIAL SCAN" if "Seq Scan" in plan or not indexes else "index"
    print(f"  query plan of the queue's clocks: {verdict}  {', '.join(indexes)}")


def run(*, database_url: str, spec: Spec | None = None) -> dict[str, float]:
    django_setup(database_url)
    ensure_data(spec) if spec is not None else ensure_data()
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import reverse

    started = time.perf_counter()
    added = _add_visit_clocks()
    print(f"  {added:,} running visit clocks added ({time.perf_counter() - started:.1f} s)")
    supervisor, _created = User.objects.get_or_create(username="bench-visits-supervisor")
    supervisor.groups.add(Group.objects.get(name="supervisor"))
    client = Client()
    client.force_login(supervisor)
    url = reverse("visits:queue")
    try:
        for _ in range(WARM_UP):
            assert client.get(url).status_code == 200
        samples = []
        for _ in range(REQUESTS):
            begun = time.perf_counter()
            response = client.get(url)
            samples.append((time.perf_counter() - begun) * 1000)
            assert response.status_code == 200
        rows = response.content.decode().count('class="visit-row')
        p50, p95 = _percentiles(samples)
        verdict = "ok" if p95 < TARGET_P95_MS else f"OVER the {TARGET_P95_MS:.0f} ms target"
        print(
            f"  {'return-visit queue page (' + str(rows) + ' rows)':<58} "
            f"p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   {verdict}",
            flush=True,
        )
        # The same request cycle with no rows (the notifications page of a user with none):
        # what the machine costs any page, to read the queue's own share against.
        empty = reverse("sla:notifications")
        for _ in range(WARM_UP):
            client.get(empty)
        base = []
        for _ in range(REQUESTS):
            begun = time.perf_counter()
            client.get(empty)
            base.append((time.perf_counter() - begun) * 1000)
        b50, b95 = _percentiles(base)
        print(f"  {'(baseline: a page with no rows)':<58} p50 {b50:6.1f} ms   p95 {b95:6.1f} ms")
        _explain()
    finally:
        _remove_visit_clocks()
        supervisor.delete()
    return {"queue_p50_ms": p50, "queue_p95_ms": p95}
