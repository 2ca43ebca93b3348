"""Proactive notice: the customers an outage covers get a text message when it is registered,
when its expected restoration changes and when power is restored — one per customer per
event, through the HTTP SMS gateway, retried when the gateway fails, never holding up the
dispatch desk's form.

The gateway is a real HTTP server on a free local port (http.server in a thread): the
only stand-in is at the SMS edge. The first tests call the services (and Celery in eager
mode where a task's own steps are the point); the last ones run a real Celery worker
against the test database and Redis, as production does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from outage_cast import bj, fault

from outages import notices, services
from outages.models import OutageEvent, OutageNotice
from servicedesk.celery import app as celery_app
from tickets import services as ticket_services

NOW = bj(2025, 6, 3, 10, 2)


class FakeGateway:
    """An HTTP SMS gateway on 127.0.0.1 that records every POST. `answer(body, n)` says
    which status the n-th request (from 1) gets; `hold` keeps every answer back until set."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, dict]] = []
        self.answer: Callable[[dict, int], int] = lambda body, n: 200
        self.hold = threading.Event()
        self.hold.set()
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                body["authorization"] = self.headers.get("Authorization", "")
                gateway.hold.wait(timeout=60)
                with gateway.lock:
                    status = gateway.answer(body, len(gateway.requests) + 1)
                    gateway.requests.append((status, body))
                    number = len(gateway.requests)
                payload = json.dumps({"id": f"gw-{number}"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
        self.answer = lambda body, n: 200
        self.hold.set()

    @property
    def delivered(self) -> list[dict]:
        """The messages the gateway took (answered 2xx)."""
        with self.lock:
            return [body for status, body in self.requests if 200 <= status < 300]


@pytest.fixture
def gateway(settings):
    with FakeGateway() as fake:
        settings.SMS_BACKEND = "http"
        settings.SMS_GATEWAY_URL = fake.url
        settings.SMS_GATEWAY_TOKEN = "sms-token"
        settings.SMS_GATEWAY_TIMEOUT_SECONDS = 5.0
        settings.SMS_RETRY_BACKOFF_SECONDS = 30.0
        yield fake


@pytest.fixture
def eager():
    """Tasks run inline where they are queued (Celery's eager mode), for the unit tests."""
    celery_app.loader.import_default_modules()  # the services queue the tasks by name
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def _send_all(event: OutageEvent, *, now=NOW) -> notices.NoticeRound:
    ids = list(event.notices.order_by("pk").values_list("pk", flat=True))
    return notices.outage_notices_send(event_id=event.pk, first_id=ids[0], last_id=ids[-1], now=now)


def _registered(outage) -> OutageEvent:
    return outage.events.get(kind=OutageEvent.Kind.REGISTERED)


# --- The messages ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registering_an_outage_writes_one_message_per_covered_customer_with_a_phone(
    bob_actor, urban_customer, important_customer, rural_customer
):
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    rows = list(OutageNotice.objects.filter(outage=outage).order_by("phone"))
    assert [(n.customer, n.phone, n.state) for n in rows] == [
        (important_customer, "01088880000", "pending"),
        (urban_customer, "13800000001", "pending"),
    ]
    # The outage, its start and its expected restoration on the Beijing wall clock.
    assert all(outage.number in n.text and "06-03 12:00" in n.text for n in rows)
    assert all(n.kind == "registered" and n.event == _registered(outage) for n in rows)


@pytest.mark.django_db
def test_a_customer_gets_no_second_message_for_the_same_event(bob_actor, urban_customer):
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    notice = OutageNotice.objects.get(outage=outage)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutageNotice.objects.create(
            outage=outage,
            event=notice.event,
            customer=urban_customer,
            kind=notice.kind,
            phone="13900000000",
            text="again",
            created_at=NOW,
        )


@pytest.mark.django_db
def test_a_customer_without_a_phone_number_gets_no_message(bob_actor, urban_customer):
    urban_customer.phones.all().delete()
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    assert outage.customers_covered == 1
    assert not OutageNotice.objects.filter(outage=outage).exists()


# --- Sending ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_after_the_commit_the_messages_arrive_at_the_gateway_once_per_customer(
    gateway,
    eager,
    bob_actor,
    urban_customer,
    important_customer,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
        # Nothing is sent inside the outage's transaction.
        assert gateway.requests == []
    assert len(callbacks) == 1
    assert sorted(m["to"] for m in gateway.delivered) == ["01088880000", "13800000001"]
    assert all(m["authorization"] == "Bearer sms-token" for m in gateway.delivered)
    rows = list(OutageNotice.objects.filter(outage=outage))
    assert {m["reference"] for m in gateway.delivered} == {f"notice-{n.pk}" for n in rows}
    assert all(n.state == "sent" and n.sent_at and n.attempts == 1 for n in rows)
    assert {n.gateway_reference for n in rows} == {"gw-1", "gw-2"}
    # A second round over the same rows (a retry, the sweep) sends nothing more.
    assert _send_all(_registered(outage)).sent == 0
    assert len(gateway.requests) == 2


@pytest.mark.django_db
def test_a_gateway_500_is_retried_and_then_succeeds_with_no_duplicate(
    gateway, bob_actor, urban_customer, important_customer
):
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    gateway.answer = lambda body, n: 500 if n == 1 else 200

    first = _send_all(_registered(outage))
    assert (first.sent, first.waiting, first.retry_in) == (0, 2, 30.0)
    # The round stopped at the first error; the rows wait for the back-off.
    waiting = list(OutageNotice.objects.filter(outage=outage))
    assert all(n.state == "pending" and n.claimed_until is None for n in waiting)
    assert all(
        NOW + timedelta(seconds=30) <= n.next_attempt_at < NOW + timedelta(seconds=31)
        for n in waiting
    )
    assert {n.last_error for n in waiting} == {"HTTP 500"}

    second = _send_all(_registered(outage), now=NOW + timedelta(seconds=30))
    assert (second.sent, second.retry_in) == (2, None)
    assert sorted(m["to"] for m in gateway.delivered) == ["01088880000", "13800000001"]
    assert [s for s, _body in gateway.requests] == [500, 200, 200]
    sent = list(OutageNotice.objects.filter(outage=outage))
    assert all(n.state == "sent" and n.attempts == 2 and n.last_error == "" for n in sent)


@pytest.mark.django_db
def test_the_back_off_doubles_and_a_message_fails_after_the_last_round(
    gateway, settings, bob_actor, urban_customer
):
    settings.SMS_MAX_ATTEMPTS = 3
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    gateway.answer = lambda body, n: 503
    rounds = [_send_all(_registered(outage), now=NOW + timedelta(minutes=i)) for i in range(3)]
    assert [r.retry_in for r in rounds] == [30.0, 60.0, None]
    assert rounds[-1].failed == 1
    notice = OutageNotice.objects.get(outage=outage)
    assert (notice.state, notice.attempts, notice.last_error) == ("failed", 3, "HTTP 503")
    assert gateway.delivered == []


@pytest.mark.django_db
def test_a_message_the_gateway_refuses_fails_alone(
    gateway, bob_actor, urban_customer, important_customer
):
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    gateway.answer = lambda body, n: 400 if body["to"] == "01088880000" else 200
    result = _send_all(_registered(outage))
    assert (result.sent, result.failed, result.retry_in) == (1, 1, None)
    states = dict(OutageNotice.objects.values_list("phone", "state"))
    assert states == {"01088880000": "failed", "13800000001": "sent"}


@pytest.mark.django_db
def test_the_eager_task_retries_a_gateway_error_by_itself(
    gateway, eager, bob_actor, urban_customer, django_capture_on_commit_callbacks
):
    gateway.answer = lambda body, n: 502 if n <= 2 else 200
    with django_capture_on_commit_callbacks(execute=True):
        outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    assert [s for s, _body in gateway.requests] == [502, 502, 200]
    notice = OutageNotice.objects.get(outage=outage)
    assert (notice.state, notice.attempts) == ("sent", 3)


# --- Slipping and ending ------------------------------------------------------------------------


@pytest.mark.django_db
def test_slipping_and_ending_send_their_own_notices(
    gateway,
    eager,
    bob_actor,
    urban_customer,
    important_customer,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.outage_update_restoration(
            outage=outage,
            expected_restoration_at=bj(2025, 6, 3, 15, 30),
            actor=bob_actor,
            now=bj(2025, 6, 3, 11, 0),
        )
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.tickets_resolve_for_outage(
            outage=outage,
            actor=bob_actor,
            restored_at=bj(2025, 6, 3, 14, 45),
            now=bj(2025, 6, 3, 14, 48),
        )
    texts: dict[str, list[str]] = {}
    for message in gateway.delivered:
        texts.setdefault(message["to"], []).append(message["text"])
    assert sorted(texts) == ["01088880000", "13800000001"]
    for sent in texts.values():
        registered, slipped, restored = sent
        assert "06-03 12:00" in registered
        assert "06-03 15:30" in slipped and "06-03 12:00" not in slipped
        assert "06-03 14:45" in restored
    kinds = set(OutageNotice.objects.values_list("kind", "state"))
    assert kinds == {("registered", "sent"), ("restoration", "sent"), ("restored", "sent")}
    assert OutageNotice.objects.count() == 6


@pytest.mark.django_db
def test_an_edit_that_moves_the_expected_restoration_notifies_and_others_do_not(
    bob_actor, urban_customer
):
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    later = bj(2025, 6, 3, 10, 10)
    services.outage_update(
        outage=outage, draft=fault(cause="电缆头击穿"), actor=bob_actor, now=later
    )
    assert OutageNotice.objects.filter(outage=outage).count() == 1
    services.outage_update(
        outage=outage,
        draft=fault(expected_restoration_at=bj(2025, 6, 3, 16, 0)),
        actor=bob_actor,
        now=later,
    )
    slipped = OutageNotice.objects.filter(outage=outage, kind="restoration").get()
    assert "06-03 16:00" in slipped.text


# --- The sweep ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_sends_what_was_left_unsent_and_leaves_what_a_live_sender_holds(
    gateway, eager, bob_actor, urban_customer, important_customer
):
    # Registered, but its task was lost (the commit callbacks never ran here).
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    held = OutageNotice.objects.get(outage=outage, customer=important_customer)
    OutageNotice.objects.filter(pk=held.pk).update(claimed_until=NOW + timedelta(minutes=10))

    # Fresh rows are left to the tasks queued with them.
    assert notices.outage_notices_sweep(now=NOW + timedelta(minutes=1)) == 0
    assert notices.outage_notices_sweep(now=NOW + timedelta(minutes=3)) == 1
    assert [m["to"] for m in gateway.delivered] == ["13800000001"]
    # The sender holding the other one died: once its lease is out, the sweep sends it.
    assert notices.outage_notices_sweep(now=NOW + timedelta(minutes=11)) == 1
    assert sorted(m["to"] for m in gateway.delivered) == ["01088880000", "13800000001"]
    assert notices.outage_notices_sweep(now=NOW + timedelta(minutes=12)) == 0


@pytest.mark.django_db
def test_the_sweep_waits_for_the_back_off(gateway, bob_actor, urban_customer):
    outage = services.outage_register(draft=fault(), actor=bob_actor, now=NOW)
    gateway.answer = lambda body, n: 500
    _send_all(_registered(outage), now=NOW + timedelta(minutes=2))  # back-off until +2:30
    assert notices.outage_notices_sweep(now=NOW + timedelta(minutes=2, seconds=10)) == 0


def test_the_sweep_is_on_the_beat_schedule():
    celery_app.loader.import_default_modules()
    entry = django_settings.CELERY_BEAT_SCHEDULE["outage-notices-sweep"]
    assert entry["task"] == "outages.tasks.outage_notices_sweep_task"
    assert entry["task"] in celery_app.tasks
    assert "outages.tasks.outage_notices_send_task" in celery_app.tasks


# --- The outage page ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_outage_page_shows_the_messages_sent_pending_and_failed(
    client, gateway, bob, bob_actor, urban_customer, important_customer, rural_customer
):
    outage = services.outage_register(
        draft=fault(feeders=["urban-1-10kV-1", "rural-1-10kV-1"]), actor=bob_actor, now=NOW
    )
    gateway.answer = lambda body, n: 400 if body["to"] == "01088880000" else 200
    ids = list(OutageNotice.objects.order_by("pk").values_list("pk", flat=True))
    notices.outage_notices_send(
        event_id=_registered(outage).pk, first_id=ids[0], last_id=ids[1], now=NOW
    )
    client.force_login(bob)
    html = client.get(reverse("outages:detail", args=[outage.number])).content.decode()
    counts = html.split('id="notice-counts"')[1].split("</dd>")[0]
    assert '"notices-sent">1<' in counts
    assert '"notices-pending">1<' in counts
    assert '"notices-failed">1<' in counts


# --- A real worker -----------------------------------------------------------------------------

LIVE = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL: the worker shares the test DB"
    ),
    pytest.mark.skipif(
        not django_settings.CELERY_BROKER_URL.startswith("redis://"),
        reason="needs CELERY_BROKER_URL=redis://… shared by the test and its worker",
    ),
]


def live(test):
    """The marks of a test with a real worker."""
    for mark in reversed(LIVE):
        test = mark(test)
    return test


@pytest.fixture(scope="module")
def live_gateway():
    with FakeGateway() as fake:
        yield fake


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, live_gateway, tmp_path_factory):
    """A real Celery worker on the test database, sending to the module's fake gateway."""
    from live_stack import celery_worker, database_url, django_env, wait_for, worker_ready

    with django_db_blocker.unblock():
        url = database_url(connection.settings_dict)
    celery_app.control.purge()  # what earlier runs may have left on this broker
    env = django_env(
        DATABASE_URL=url,
        CELERY_BROKER_URL=django_settings.CELERY_BROKER_URL,
        SMS_BACKEND="http",
        SMS_GATEWAY_URL=live_gateway.url,
        SMS_RETRY_BACKOFF_SECONDS="0.2",
        SMS_GATEWAY_TIMEOUT_SECONDS="5",
    )
    child = celery_worker("notices-worker", env=env, log_dir=tmp_path_factory.mktemp("worker"))
    child.start()
    try:
        wait_for(lambda: worker_ready(child), timeout=60, what="the worker", children=[child])
        yield child
    finally:
        child.stop()


def _wait_sent(count: int, child) -> None:
    from live_stack import wait_for

    wait_for(
        lambda: OutageNotice.objects.filter(state="sent").count() == count,
        timeout=30,
        what=f"{count} messages sent",
        children=[child],
    )


def _live_fault(**fields):
    now = timezone.now()
    values = {
        "starts_at": now - timedelta(minutes=3),
        "confirmed_at": now - timedelta(minutes=1),
        "expected_restoration_at": now + timedelta(hours=2),
    }
    return fault(**{**values, **fields})


@live
def test_registering_an_outage_does_not_wait_for_the_gateway(
    worker, live_gateway, client, bob, urban_area, urban_customer, important_customer
):
    live_gateway.reset()
    live_gateway.hold.clear()  # the gateway answers nothing until told
    client.force_login(bob)
    now = timezone.localtime()
    started = time.monotonic()
    response = client.post(
        reverse("outages:create"),
        {
            "kind": "fault",
            "title": "10kV城东线故障",
            "starts_at": (now - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M"),
            "confirmed_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "expected_restoration_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "feeders": "urban-1-10kV-1",
        },
    )
    took = time.monotonic() - started
    assert response.status_code == 302, response.content.decode()[:2000]
    assert took < 3, f"the register waited {took:.1f} s"
    assert OutageNotice.objects.filter(state="pending").count() == 2
    live_gateway.hold.set()
    _wait_sent(2, worker)
    assert sorted(m["to"] for m in live_gateway.delivered) == ["01088880000", "13800000001"]


@live
def test_the_worker_retries_a_gateway_500_with_back_off_and_sends_each_message_once(
    worker, live_gateway, bob_actor, urban_customer, important_customer
):
    live_gateway.reset()
    live_gateway.answer = lambda body, n: 500 if n <= 3 else 200
    outage = services.outage_register(draft=_live_fault(), actor=bob_actor)
    _wait_sent(2, worker)
    statuses = [status for status, _body in live_gateway.requests]
    assert statuses == [500, 500, 500, 200, 200]
    assert sorted(m["to"] for m in live_gateway.delivered) == ["01088880000", "13800000001"]
    assert set(OutageNotice.objects.filter(outage=outage).values_list("attempts", flat=True)) == {4}
    # Ending the outage sends its own message, once each.
    ticket_services.tickets_resolve_for_outage(outage=outage, actor=bob_actor)
    _wait_sent(4, worker)
    assert len(live_gateway.delivered) == 4
