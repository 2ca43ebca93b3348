"""Agent console server time on a provincial centre's data: 1,000,000 customers, 2,000,000 orders.

Requests go through Django's test Client in this process (URL routing, middleware, session,
view, selectors, templates and the database), so the figures are the server's time without
the network. Each figure is 200 requests for different random callers, after a warm-up:

- caller lookup by phone: the customer found from the number the switch reports
  (the selector alone, target < 20 ms) and the caller panel the page fetches (lookup + card);
- the live-call poll the page makes every second;
- the intake page with a customer card (target < 100 ms);
- submit: create a repair order and dispatch it to its crew (target < 150 ms).

Then EXPLAIN of every lookup, to show each one uses an index.

The data set is the shared one (`bench.data.ensure_data`, loaded by `python -m bench`). What
the benchmark adds — fifty announced outages, the orders
it submits and everything hanging off them — is deleted at the end.
"""

from __future__ import annotations

import os
import random
import re
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench.data import django_setup, ensure_data

REQUESTS = 200
WARM_UP = 20
OUTAGES = 50
TARGETS_MS = {"lookup": 20.0, "intake": 100.0, "submit": 150.0}
BENCH_OUTAGE_PREFIX = "bench-console-"


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return p50, p95


def _measure(label: str, call: Callable[[int], Any], *, n: int = REQUESTS) -> tuple[float, float]:
    for i in range(WARM_UP):
        call(-1 - i)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append((time.perf_counter() - started) * 1000)
    p50, p95 = _percentiles(samples)
    print(f"  {label:<58} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms", flush=True)
    return p50, p95


def _add_outages(now) -> list[int]:
    """Tens of outages are open at any moment in a province; the card checks them all."""
    from customers.models import ServiceArea
    from outages.models import Outage

    areas = list(ServiceArea.objects.order_by("pk")[:OUTAGES])
    ids = []
    for i, area in enumerate(areas):
        outage = Outage.objects.create(
            number=f"{BENCH_OUTAGE_PREFIX}{i}",
            kind=Outage.Kind.FAULT if i % 2 else Outage.Kind.PLANNED,
            title="基准测试停电",
            starts_at=now - timedelta(hours=1) if i % 2 else now + timedelta(days=1),
            expected_restoration_at=now + timedelta(hours=3 + i % 24),
            feeders=[f"10kV{i}号线"],
            transformer_areas=[f"台区{i}"],
        )
        outage.service_areas.add(area)
        ids.append(outage.pk)
    return ids


def _explain() -> None:
    from django.utils import timezone

    from calls.models import Call
    from customers.models import Customer, CustomerPhone
    from tickets.models import OPEN_STATUSES, Ticket

    now = timezone.now()
    plans = {
        "phone → customer": CustomerPhone.objects.filter(number="13900123457").values(
            "customer_id"
        ),
        "account number": Customer.objects.filter(account_number="3100123457"),
        "name prefix": Customer.objects.filter(name__startswith="王伟芳")[:20],
        "address part (trigram)": Customer.objects.filter(address__icontains="朝阳大道97号")[:20],
        "open orders of the caller": Ticket.objects.filter(
            customer_id=123457, status__in=OPEN_STATUSES
        ).order_by("-created_at")[:10],
        "open orders by caller number": Ticket.objects.filter(
            caller_phone="13900123457", status__in=OPEN_STATUSES
        )[:10],
        "live call of the agent": Call.objects.filter(
            agent_id=1, hangup_at__isnull=True, ring_at__gte=now - timedelta(hours=4)
        ).order_by("-ring_at")[:1],
    }
    print("  query plans (EXPLAIN):")
    for label, queryset in plans.items():
        plan = queryset.explain()
        indexes = list(
            dict.fromkeys(
                re.findall(
                    r"(?:Index Scan (?:Backward )?using|Index Only Scan using|Bitmap Index Scan on) (\S+)",
                    plan,
                )
            )
        )
        sequential = "Seq Scan" in plan
        verdict = "SEQUENTIAL SCAN" if sequential or not indexes else "index"
        print(f"    {label:<30} {verdict:<8} {', '.join(indexes) or plan.splitlines()[0][:90]}")


def run(*, database_url: str) -> dict[str, float]:
    django_setup(database_url)
    ensure_data()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from customers.models import Customer
    from customers.selectors import customer_find_by_phone, customer_search
    from outages.models import Outage
    from tickets.models import Ticket

    rng = random.Random(95598)
    customers = Customer.objects.count()
    agent = (
        User.objects.filter(username__startswith="bench-agent-", groups__name="agent")
        .order_by("pk")
        .first()
    )
    if agent is None:
        print("  no bench agent in the data set; skipped")
        return {}
    client = Client()
    client.force_login(agent)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(max(id), 0) FROM tickets_ticket")
        (last_ticket,) = cursor.fetchone()
    # A run cut short earlier may have left its outages behind.
    Outage.objects.filter(number__startswith=BENCH_OUTAGE_PREFIX).delete()
    intake, panel, live = (
        reverse("tickets:intake"),
        reverse("tickets:caller_panel"),
        reverse("tickets:live_call"),
    )
    outage_ids = _add_outages(timezone.now())
    # Callers drawn at random over the whole table (the data set's numbers are 139 + the id).
    callers = [rng.randint(1, customers) for _ in range(REQUESTS + WARM_UP)]

    def phone(i: int) -> str:
        return f"139{callers[i]:08d}"

    intake, panel, live = (
        reverse("tickets:intake"),
        reverse("tickets:caller_panel"),
        reverse("tickets:live_call"),
    )
    results: dict[str, float] = {}
    started = time.perf_counter()
    try:
        print(
            f"  {customers:,} customers, {Ticket.objects.count():,} orders, {len(outage_ids)} open outages"
        )
        results["lookup_p50_ms"], results["lookup_p95_ms"] = _measure(
            "caller lookup by phone (selector)", lambda i: customer_find_by_phone(phone=phone(i))
        )
        streets = ["解放路", "人民路", "建设路", "和平街", "文化路", "朝阳大道", "中山路", "新华街"]
        _measure(
            "customer search by address part (selector)",
            lambda i: customer_search(query=f"{streets[i % len(streets)]}{1 + callers[i] % 997}号"),
        )
        _measure(
            "customer search by account number (selector)",
            lambda i: customer_search(query=f"{3100000000 + callers[i]}"),
        )
        results["panel_p50_ms"], results["panel_p95_ms"] = _measure(
            "caller panel by phone (lookup + card, HTTP)",
            lambda i: client.get(panel, {"phone": phone(i)}),
        )
        results["live_call_p50_ms"], results["live_call_p95_ms"] = _measure(
            "live-call poll (every second per agent, HTTP)", lambda i: client.get(live)
        )
        results["intake_p50_ms"], results["intake_p95_ms"] = _measure(
            "intake page with a customer card (HTTP)",
            lambda i: client.get(intake, {"phone": phone(i), "customer": callers[i]}),
        )

        def submit(i: int) -> None:
            response = client.post(
                intake,
                {
                    "caller_phone": phone(i),
                    "customer": callers[i],
                    "category": "repair",
                    "inside_installation": "no",
                    "description": "基准测试：家里没电",
                },
            )
            if response.status_code != 302:
                raise RuntimeError(f"submit answered {response.status_code}")

        results["submit_p50_ms"], results["submit_p95_ms"] = _measure(
            "submit: create a repair and dispatch it (HTTP)", submit
        )
        dispatched = Ticket.objects.filter(pk__gt=last_ticket, status="dispatched").count()
        print(
            f"  {dispatched} orders submitted, all dispatched to their crews: "
            f"{dispatched == REQUESTS + WARM_UP}"
        )
        for key, target in TARGETS_MS.items():
            p95 = results[f"{key}_p95_ms"]
            print(
                f"  {key:<8} target < {target:.0f} ms: p95 {p95:.1f} ms {'met' if p95 < target else 'MISSED'}"
            )
        _explain()
    finally:
        # Undo: the submitted orders (their timeline, timers, breaches cascade) and the outages.
        Ticket.objects.filter(pk__gt=last_ticket).delete()
        Outage.objects.filter(pk__in=outage_ids).delete()
        print(f"  cleaned up; console bench took {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    run(
        database_url=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench"
        )
    )
