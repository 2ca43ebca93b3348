"""Crew and department page server time on the shared data set (2,000,000 orders, 1,000,000
open: about 10,000 open repairs per crew and 80,000 open orders per department).

Requests go through Django's test Client in this process (routing, middleware, session,
view, selectors, templates, database), after a warm-up, as bench_console does:

- the crew's list: my unit's orders nearest deadline first (target p95 < 100 ms);
- one order of the crew with its steps;
- the department's list with its reply countdowns.

Then EXPLAIN of the list query, to show it is one ordered scan of `ticket_unit_deadline_idx`
that stops after the page. The two people the benchmark signs in as (a crew member, a
department handler) are deleted at the end.

`python -m bench field` runs it alone; with BENCH_SPEC (bench/__main__.py) on a small data
set, for trying the benchmark itself rather than for its figures.
"""

from __future__ import annotations

import os
import random
import re
import time

from bench.bench_console import _measure
from bench.data import django_setup

TARGET_MS = 100.0


def _member(username: str, role: str, unit):
    from django.contrib.auth.models import Group, User

    user, _created = User.objects.get_or_create(username=username, defaults={"password": "!"})
    user.groups.set([Group.objects.get(name=role)])
    unit.members.add(user)
    return User.objects.get(pk=user.pk)


def _explain(unit_id: int) -> None:
    from tickets.models import UNIT_LIST_STATUSES, Ticket, next_deadline

    query = (
        Ticket.objects.filter(handling_unit_id__in=[unit_id], status__in=UNIT_LIST_STATUSES)
        .select_related("subtype", "customer")
        .annotate(next_due=next_deadline())
        .order_by("next_due", "id")[:100]
    )
    plan = query.explain(analyze=True)
    indexes = list(dict.fromkeys(re.findall(r"Index (?:Only )?Scan using (\S+)", plan)))
    sort = "Sort" in plan and "ticket_unit_deadline_idx" not in indexes
    verdict = "SORTED IN MEMORY" if sort else "ordered index scan"
    timing = re.search(r"Execution Time: ([\d.]+) ms", plan)
    print(f"  list query plan: {verdict}, {', '.join(indexes) or '-'}", end="")
    print(f", {timing.group(1)} ms" if timing else "")


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def run(*, database_url: str) -> dict[str, float]:
    # The data set is the one `python -m bench` loaded (BENCH_SPEC or the full one).
    django_setup(database_url)
    from django.test import Client
    from django.urls import reverse

    from customers.models import HandlingUnit
    from tickets.models import UNIT_LIST_STATUSES, Ticket

    crew = HandlingUnit.objects.filter(code="bench-crew-1").first()
    department = HandlingUnit.objects.filter(code="bench-dept-1").first()
    if crew is None or department is None:
        print("  no bench crew or department in the data set; skipped")
        return {}
    for unit in (crew, department):
        unit.open = Ticket.objects.filter(handling_unit=unit, status__in=UNIT_LIST_STATUSES).count()
    crew_member = _member("bench-crew-member", "crew", crew)
    handler = _member("bench-department-handler", "department", department)
    rng = random.Random(95598)
    numbers = list(
        Ticket.objects.filter(handling_unit=crew, status__in=UNIT_LIST_STATUSES)
        .order_by("?")
        .values_list("number", flat=True)[:300]
    )
    results: dict[str, float] = {}
    started = time.perf_counter()
    try:
        print(
            f"  {Ticket.objects.count():,} orders; crew {crew.code}: {crew.open:,} open, "
            f"department {department.code}: {department.open:,} open (load average {_load()})"
        )
        crew_client, department_client = Client(), Client()
        crew_client.force_login(crew_member)
        department_client.force_login(handler)
        crew_list = reverse("field:crew_orders")

        def crew_page(i: int) -> None:
            response = crew_client.get(crew_list)
            if response.status_code != 200:
                raise RuntimeError(f"the crew page answered {response.status_code}")

        results["crew_p50_ms"], results["crew_p95_ms"] = _measure(
            "crew page: my unit's orders, nearest deadline first (HTTP)", crew_page
        )
        results["order_p50_ms"], results["order_p95_ms"] = _measure(
            "crew order page with its steps (HTTP)",
            lambda i: crew_client.get(
                reverse("field:crew_order", args=[numbers[rng.randrange(len(numbers))]])
            ),
        )
        results["department_p50_ms"], results["department_p95_ms"] = _measure(
            "department page with reply countdowns (HTTP)",
            lambda i: department_client.get(reverse("field:department_orders")),
        )
        p95 = results["crew_p95_ms"]
        print(
            f"  crew page target p95 < {TARGET_MS:.0f} ms: {p95:.1f} ms "
            f"{'met' if p95 < TARGET_MS else 'MISSED'}"
        )
        _explain(crew.pk)
        _explain(department.pk)
    finally:
        crew_member.delete()
        handler.delete()
        print(f"  cleaned up; field bench took {time.perf_counter() - started:.0f} s")
    return results
