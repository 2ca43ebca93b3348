"""A storm: one fault outage over one service area, then thousands of repair calls from it.

On the shared data set (`bench.data`), in one run:

1. registers a fault outage covering one service area (its customers counted, its crew
   dispatched once, a text message written for each customer with a phone);
2. starts gunicorn (production settings, DEBUG off) and sends STORM_ORDERS repair creates
   through the API with wrk (16 keep-alive connections, Idempotency-Key each), first from
   customers outside the outage (the plain create) and then from customers inside it (the
   API links each to the outage: merged, no crew of its own) — the two rates side by side;
3. ends the outage in-process (`tickets.services.tickets_resolve_for_outage`, what the
   outage page's "power restored" does) and times it: every linked order resolved in one
   transaction, one return visit for the outage, the end's text messages written
   (target < 3 s for 5,000 orders);
4. deletes what it added — the orders of both runs with their timers and events, the
   outage with its history, dispatch, clocks and messages, its API client — so the other
   benchmarks find the data as it was.

The SMS tasks queued after the commits find their rows gone and send nothing; the gateway
adapter is the log one unless the environment says otherwise.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from bench.data import django_setup

STORM_ORDERS = int(os.environ.get("BENCH_STORM_ORDERS", "5000"))
END_TARGET_SECONDS = 3.0
BENCH_CLIENT = "bench-storm-ivr"
OUTAGE_NUMBER = "bench-storm-1"

# wrk runs for a fixed time (its main thread sleeps that long whatever its threads do), so
# the creates go in rounds sized from the rate so far until the storm has its size; the
# rate is all the answers over all the rounds' time.


def _wrk(*, port: int, token: str, accounts: list[str], seconds: int) -> dict[str, Any]:
    """One wrk round of API creates from these accounts (bench_api's load runner)."""
    from bench.bench_api import CONCURRENCY, _run_load

    return _run_load(
        port=port,
        token=token,
        kind="create",
        seconds=seconds,
        concurrency=CONCURRENCY,
        accounts=accounts,
        paths=["/api/v1/tickets/"],
    )


def _creates(*, port: int, token: str, accounts: list[str], orders: int, count) -> dict[str, Any]:
    """At least `orders` API creates (`count()` says how many so far) in wrk rounds; their
    rate over all the rounds, and the latency of the longest round."""
    rounds: list[dict[str, Any]] = []
    rate: float | None = None
    while (done := count()) < orders and len(rounds) < 20:
        # A short first round measures the rate; the next ones are sized by it, so the
        # outage ends with about `orders` linked to it, not several times as many.
        seconds = 5 if rate is None else max(2, min(120, round((orders - done) / rate) + 1))
        rounds.append(_wrk(port=port, token=token, accounts=accounts, seconds=seconds))
        rate = max(1.0, sum(r["requests"] for r in rounds) / sum(r["seconds"] for r in rounds))
    statuses: dict[str, int] = {}
    for one in rounds:
        for code, n in one["statuses"].items():
            statuses[code] = statuses.get(code, 0) + n
    longest = max(rounds, key=lambda r: r["seconds"])
    return {
        "per_second": rate,
        "p50_ms": longest["p50_ms"],
        "p99_ms": longest["p99_ms"],
        "statuses": dict(sorted(statuses.items())),
        "rounds": len(rounds),
    }


def _accounts(area_id: int, *, inside: bool, limit: int = 1000) -> list[str]:
    from customers.models import Customer

    customers = Customer.objects.all()
    if inside:
        customers = customers.filter(service_area_id=area_id)
    else:
        customers = customers.exclude(service_area_id=area_id)
    return list(customers.order_by("pk").values_list("account_number", flat=True)[:limit])


def _remove_outage() -> None:
    """The bench's outage and everything of it (history, clocks, dispatch, messages)."""
    from django.db import connection, transaction

    from outages.models import Outage, OutageNotice

    with transaction.atomic():
        ids = list(Outage.objects.filter(number=OUTAGE_NUMBER).values_list("pk", flat=True))
        if not ids:
            return
        # Set-based: the ORM would load the tens of thousands of messages to cascade.
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {OutageNotice._meta.db_table} WHERE outage_id = ANY(%s)", [ids]
            )
        Outage.objects.filter(pk__in=ids).delete()


def run(*, database_url: str) -> dict[str, float]:
    django_setup(database_url)
    from django.db import connection, transaction
    from django.db.models import Count
    from django.utils import timezone

    from api.models import ApiClient, Scope
    from api.services import api_client_create
    from bench.bench_api import (
        _delete_orders_after,
        _free_port,
        _sequence_reset,
        _start_gunicorn,
        _stop,
    )
    from customers.models import Customer, ServiceArea
    from outages.models import OutageDispatch, OutageNotice
    from outages.services import OutageDraft, outage_register
    from servicedesk.actors import Actor
    from tickets.models import Status, Ticket
    from tickets.services import tickets_resolve_for_outage

    actor = Actor(label="bench-storm")
    # The area with the most customers reached by a crew: a real storm's footprint.
    area = (
        ServiceArea.objects.filter(crew__isnull=False, customers__isnull=False)
        .order_by("pk")
        .first()
    )
    if area is None:
        print("   no service area with customers and a crew: nothing to measure")
        return {}
    _remove_outage()  # a run that died halfway may have left its outage
    inside = _accounts(area.pk, inside=True)
    outside = _accounts(area.pk, inside=False)
    last_id = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ApiClient.objects.filter(name=BENCH_CLIENT).delete()
    client, token = api_client_create(name=BENCH_CLIENT, scopes=list(Scope.values))
    now = timezone.now()
    results: dict[str, Any] = {}
    try:
        started = time.perf_counter()
        outage = outage_register(
            draft=OutageDraft(
                number=OUTAGE_NUMBER,
                kind="fault",
                title="台风致10kV线路跳闸（压测）",
                cause="台风",
                starts_at=now - timedelta(minutes=5),
                confirmed_at=now - timedelta(minutes=2),
                expected_restoration_at=now + timedelta(hours=3),
                service_areas=[area],
            ),
            actor=actor,
        )
        results["register_s"] = time.perf_counter() - started
        results["covered"] = outage.customers_covered
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE tickets_ticket, tickets_ticketevent, sla_timer")
        connection.close()  # gunicorn's workers get the database to themselves

        port = _free_port()
        server = _start_gunicorn(database_url, port)
        try:
            # Warm every worker (imports, catalogues, connections) with a few plain creates.
            _wrk(port=port, token=token, accounts=outside, seconds=3)
            plain_from = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
            results["plain"] = _creates(
                port=port,
                token=token,
                accounts=outside,
                orders=STORM_ORDERS,
                count=lambda: Ticket.objects.filter(id__gt=plain_from).count(),
            )
            # The last plain requests wrk sent are still being served when it exits.
            time.sleep(2)
            storm_from = Ticket.objects.order_by("-id").values_list("id", flat=True).first()
            results["linked"] = _creates(
                port=port,
                token=token,
                accounts=inside,
                orders=STORM_ORDERS,
                count=lambda: Ticket.objects.filter(outage=outage).count(),
            )
        finally:
            _stop(server)
        linked = Ticket.objects.filter(outage=outage)
        results["linked_orders"] = linked.count()
        results["linked_merged"] = linked.filter(status=Status.MERGED).count()
        results["plain_orders"] = Ticket.objects.filter(
            id__gt=plain_from, id__lte=storm_from
        ).count()
        results["storm_unlinked"] = Ticket.objects.filter(
            id__gt=storm_from, outage__isnull=True
        ).count()
        results["dispatches"] = OutageDispatch.objects.filter(outage=outage).count()

        started = time.perf_counter()
        ended = tickets_resolve_for_outage(outage=outage, actor=actor)
        results["end_s"] = time.perf_counter() - started
        results["resolved"] = ended.resolved
        results["visit_due"] = ended.outage.visit_due_at is not None
        results["notices"] = dict(
            OutageNotice.objects.filter(outage=outage)
            .values_list("kind")
            .annotate(n=Count("pk"))
            .order_by()
            .values_list("kind", "n")
        )
    finally:
        created = Ticket.objects.filter(id__gt=last_id).count()
        with transaction.atomic():
            deleted = _delete_orders_after(last_id)
        _sequence_reset(last_id)
        _remove_outage()
        ApiClient.objects.filter(pk=client.pk).delete()

    plain, storm = results["plain"], results["linked"]
    ratio = storm["per_second"] / plain["per_second"]
    customers = Customer.objects.filter(service_area_id=area.pk).count()
    print(
        f"   outage over {area.name}: {results['covered']:,} customers covered "
        f"({customers:,} in the area), registered in {results['register_s']:.2f} s with its "
        f"text messages written; crew dispatches for the outage: {results['dispatches']}"
    )
    for label, figures, orders in (
        ("plain create (callers outside the outage)", plain, results["plain_orders"]),
        ("linked create (callers inside the outage)", storm, results["linked_orders"]),
    ):
        print(
            f"   {label}: {figures['per_second']:.0f}/s, p50 {figures['p50_ms']:.1f} ms, "
            f"p99 {figures['p99_ms']:.1f} ms, {orders:,} orders, answers {figures['statuses']}"
        )
    print(
        f"   linked / plain create rate: {100 * ratio:.1f} % (target >= 100 %: "
        f"{'met' if ratio >= 1 else 'MISSED'}); linked orders merged into the outage: "
        f"{results['linked_merged']:,} of {results['linked_orders']:,}, "
        f"storm calls not linked: {results['storm_unlinked']}"
    )
    print(
        f"   ending the outage: {results['resolved']:,} orders resolved in one transaction in "
        f"{results['end_s']:.2f} s (target < {END_TARGET_SECONDS:.0f} s: "
        f"{'met' if results['end_s'] < END_TARGET_SECONDS else 'MISSED'}), one return visit "
        f"queued: {results['visit_due']}; text messages written: {results['notices']}"
    )
    print(
        f"   cleanup: {created:,} orders created by the bench, {deleted:,} deleted with their "
        f"timers and events; the outage and its messages deleted"
    )
    return {
        "plain_create_per_second": plain["per_second"],
        "linked_create_per_second": storm["per_second"],
        "linked_to_plain_ratio": ratio,
        "end_seconds": results["end_s"],
        "resolved": float(results["resolved"]),
    }
