"""The real app behind PgBouncer in transaction mode: every create and list of the API works.

That is how many web processes share a few database sessions. Each transaction goes to
whichever server connection is free, so anything a request leaves in a session (a prepared
statement, a startup option, ids drawn ahead from a sequence) is gone for its next
statement. Here gunicorn (two workers, persistent connections) talks to a PgBouncer of the
test's own whose four server connections take turns, and an integration client creates
orders of every category — keyed, retried, many at once — and reads them back page by page.

The server and PgBouncer are real processes, so waits use the wall clock and are bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from gunicorn.config import Config as GunicornConfig
from pgbouncer import PgBouncer, free_port, pgbouncer_binary

from api.models import IdempotencyRecord
from tickets.models import Ticket

pytestmark = [
    # The server's requests commit; the test reads what they wrote.
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: DATABASE_URL is not a postgres:// URL",
    ),
    pytest.mark.skipif(
        pgbouncer_binary() is None,
        reason="pgbouncer is not installed (`make test` installs Debian's package)",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
TICKETS = "/api/v1/tickets/"
CATEGORIES = ["repair", "inquiry", "application", "complaint", "report"]
SERVER_START_SECONDS = 30
REQUEST_SECONDS = 20


@pytest.fixture
def pgbouncer(transactional_db) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode in front of the test database, stopped before the
    database is flushed (its server connections would hold the flush up)."""
    db = connection.settings_dict
    bouncer = PgBouncer(
        dbname=db["NAME"],
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 5432),
        user=db["USER"] or "postgres",
    )
    try:
        yield bouncer.start()
    finally:
        bouncer.stop()


@dataclass
class App:
    base: str
    log_path: Path

    def log(self) -> str:
        """The end of what the server wrote (tracebacks of server errors included)."""
        return self.log_path.read_text(errors="replace")[-6000:]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


class HttpClient:
    """An integration client over real HTTP: its token on every request. Every answer must
    be JSON and none a server error; a request that fails so raises AssertionError."""

    def __init__(self, app: App, token: str) -> None:
        self.base, self.app, self.token = app.base, app, token

    def request(
        self, method: str, url: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Answer:
        request = urllib.request.Request(
            url if url.startswith("http") else self.base + url,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Token {self.token}",
                "Accept": "application/json",
                **({"Content-Type": "application/json"} if body is not None else {}),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_SECONDS) as response:
                answer = Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            answer = Answer(error.code, dict(error.headers), error.read())
        assert answer.status < 500, f"{method} {url}: {answer.status}\n{self.app.log()}"
        assert answer.headers.get("Content-Type", "").startswith("application/json"), answer
        answer.json()
        return answer

    def create(self, body: dict[str, str], key: str | None = None) -> Answer:
        return self.request("POST", TICKETS, body, {"Idempotency-Key": key} if key else None)

    def get(self, path: str, **params: str) -> Answer:
        return self.request("GET", path + (f"?{urlencode(params)}" if params else ""))


@pytest.fixture
def app_through_pgbouncer(pgbouncer, tmp_path) -> Iterator[App]:
    """The app under gunicorn, two workers, on a free port, its database through PgBouncer.

    Yields it once the API answers. Stopped (the whole process group) before
    PgBouncer, which is stopped before the test database is flushed."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "DATABASE_URL": pgbouncer.url(),
        "DJANGO_DEBUG": "0",
        # Persistent sessions: one worker's statements of one request, and of the next, go
        # through one client session to whichever server session PgBouncer picks.
        "DB_CONN_MAX_AGE": "60",
        "GUNICORN_WORKERS": "2",
        "LOG_LEVEL": "WARNING",
        # CELERY_BROKER_URL as the suite has it (or the default): a create sends no task.
    }
    log_path = tmp_path / "gunicorn.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        *("servicedesk.wsgi", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"),
    ]
    if "control_socket_disable" in GunicornConfig().settings:
        # Its control socket sits in the home directory by default: one per user, which
        # another server (a second test run, the bench) would take over.
        command.append("--no-control-socket")
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers are ours to stop with it
        )
    app = App(base=f"http://127.0.0.1:{port}", log_path=log_path)
    try:
        _wait_until_the_api_answers(app, server)
        yield app
    finally:
        _stop(server)


def _wait_until_the_api_answers(app: App, server: subprocess.Popen) -> None:
    """Until GET /api/v1/tickets/ without a token answers 401 (no database needed for that)."""
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode}:\n{app.log()}")
        try:
            urllib.request.urlopen(app.base + TICKETS, timeout=2)
        except urllib.error.HTTPError as error:
            assert error.code == 401, (error.code, error.read()[:2000])
            return
        except OSError:
            time.sleep(0.2)
            continue
        pytest.fail("the list answered without a token")
    pytest.fail(f"gunicorn did not answer within {SERVER_START_SECONDS} s:\n{app.log()}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful stop: workers finish, exit
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(server.pid, signal.SIGKILL)  # any worker its master left behind
    except ProcessLookupError:
        pass
    server.wait(timeout=5)


@pytest.fixture
def ivr(app_through_pgbouncer, api_client) -> HttpClient:
    """The IVR (every scope) calling the app through PgBouncer."""
    return HttpClient(app_through_pgbouncer, api_client.token)


def order(index: int, category: str) -> dict[str, str]:
    """What an IVR knows of a call: the category, the caller's number, what they said."""
    phones = ["13800000001", "13800000002", "010-12345678"]  # urban, rural, unknown caller
    return {
        "category": category,
        "caller_phone": phones[index % len(phones)],
        "description": f"第{index}通来电：{category}",
    }


def walk(ivr: HttpClient, **params: str) -> list[list[dict[str, Any]]]:
    """Every page of the list, following `next` from the first page."""
    pages, answer = [], ivr.get(TICKETS, **params)
    while True:
        assert answer.status == 200, answer.content[:2000]
        pages.append(answer.json()["results"])
        if answer.json()["next"] is None:
            return pages
        answer = ivr.request("GET", answer.json()["next"])
        assert len(pages) < 100, "the cursor never ends"


def newest_first(**lookups: Any) -> list[str]:
    return list(
        Ticket.objects.filter(**lookups)
        .order_by("-created_at", "-id")
        .values_list("number", flat=True)
    )


def test_the_whole_api_create_and_list_work_through_pgbouncer_in_transaction_mode(
    ivr, api_client, urban_customer, rural_customer, service_department
):
    # One order of each category with no more than the IVR knows: each is taken with its
    # number and its running deadlines.
    answers = [ivr.create(order(i, category)) for i, category in enumerate(CATEGORIES)]
    for category, answer in zip(CATEGORIES, answers, strict=True):
        assert answer.status == 201, (category, answer.content.decode())
        body = answer.json()
        assert body["category"] == category
        assert body["number"]
        assert "dispatch" in body["deadlines"], body

    # Forty more from four threads at once, every other one with an Idempotency-Key, and
    # four of the keyed ones sent twice while the rest are still running: far more requests
    # than server connections, so every worker's session hops between them.
    bodies = {i: order(i, CATEGORIES[i % len(CATEGORIES)]) for i in range(5, 45)}
    keys = {i: f"ivr-pgbouncer-{i}" for i in bodies if i % 2 == 0}
    repeats = [6, 8, 10, 12]
    sends = [(i, bodies[i], keys.get(i)) for i in bodies] + [
        (i, bodies[i], keys[i]) for i in repeats
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda send: (send[0], ivr.create(send[1], send[2])), sends))
    numbers: dict[int, str] = {}
    for i, answer in results:
        assert answer.status == 201, (i, answer.content.decode())
        assert "dispatch" in answer.json()["deadlines"]
        assert numbers.setdefault(i, answer.json()["number"]) == answer.json()["number"]

    # A retry after the fact gets the first answer, byte for byte, and no second order.
    first = next(answer for i, answer in results if i == 6)
    retried = ivr.create(bodies[6], keys[6])
    assert retried.status == 201
    assert retried.content == first.content
    assert retried.headers["Idempotent-Replayed"] == "true"

    # In the database: exactly one order per distinct request, one key per keyed request.
    created = {answer.json()["number"] for answer in answers} | set(numbers.values())
    assert len(created) == 45
    descriptions = Counter(Ticket.objects.values_list("description", flat=True))
    assert descriptions == Counter(
        [order(i, c)["description"] for i, c in enumerate(CATEGORIES)]
        + [body["description"] for body in bodies.values()]
    )
    assert set(Ticket.objects.values_list("number", flat=True)) == created
    assert IdempotencyRecord.objects.filter(client=api_client.client).count() == len(keys)

    # The list, seven at a time: every order once, newest first, across seven pages.
    pages = walk(ivr, page_size="7")
    listed = [row["number"] for page in pages for row in page]
    assert len(pages) == 7
    assert listed == newest_first()
    assert len(set(listed)) == len(listed) == 45
    times = [datetime.fromisoformat(row["created_at"]) for page in pages for row in page]
    assert times == sorted(times, reverse=True)
    assert all(row["deadlines"] for page in pages for row in page)

    # Filters, each walked past its first page.
    pivot = Ticket.objects.order_by("-created_at", "-id")[19].created_at
    for params, lookups in [
        ({"category": "repair"}, {"category": "repair"}),
        ({"breached": "false"}, {"breached": False}),
        ({"created_after": pivot.isoformat()}, {"created_at__gte": pivot}),
        (
            {"category": "complaint", "breached": "false", "created_after": pivot.isoformat()},
            {"category": "complaint", "breached": False, "created_at__gte": pivot},
        ),
    ]:
        expected = newest_first(**lookups)
        pages = walk(ivr, page_size="2", **params)
        listed = [row["number"] for page in pages for row in page]
        assert listed == expected, params
        assert len(pages) >= 2, params
        assert len(set(listed)) == len(listed), params

    # Each order of the first five, in full.
    for category, answer in zip(CATEGORIES, answers, strict=True):
        number = answer.json()["number"]
        detail = ivr.get(f"{TICKETS}{number}/")
        assert detail.status == 200, detail.content.decode()
        assert (detail.json()["number"], detail.json()["category"]) == (number, category)
        assert detail.json()["deadlines"] == answer.json()["deadlines"]
        assert detail.json()["timeline"][0]["kind"] == "created"
