"""The real parts as child processes of a test: a Redis server of the test's own, the web app
under gunicorn, Celery workers and beats — all pointed at the test database.

Each child runs in a session of its own, so stopping it (or killing it) reaches every
process it started (gunicorn's workers, the worker's pool) and nothing else. Waits use the
wall clock, since real processes act on it, and every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from gunicorn.config import Config as GunicornConfig

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict: dict[str, Any]) -> str:
    """The DATABASE_URL of a Django connection's database (the test database)."""
    user = settings_dict.get("USER") or "postgres"
    if settings_dict.get("PASSWORD"):
        user = f"{user}:{settings_dict['PASSWORD']}"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}"


class Child:
    """One process this test started (and only this test stops), logging to a file."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name, self.args, self.env = name, args, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> Child:
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                self.args,
                env=self.env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the children it forks die with it
            )
        return self

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group at once, as `docker kill` does to a container; returns
        once none of it is left."""
        self._signal_group(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait(timeout=10)
            wait_for(lambda: not self._group_exists(), timeout=10, what=f"{self.name} to die")

    def _group_exists(self) -> bool:
        try:
            os.killpg(self.popen.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM (the graceful stop), then SIGKILL for whatever of the group is left."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def _signal_group(self, signum: int) -> None:
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signum)
        except ProcessLookupError:
            pass

    def log(self, tail: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-tail:]


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, what: str, children: Iterable[Child] = ()
) -> Any:
    """Poll until `predicate()` is true (returned); fail with the children's logs after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    logs = "\n".join(f"--- {child.name} ---\n{child.log()}" for child in children)
    raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}\n{logs}")


class OwnRedis:
    """A redis-server of the test's own on a free port, with nothing kept on disk, so the
    test may stop and start it while other test runs use the shared one."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.process: Child | None = None
        self.starts = 0

    @staticmethod
    def binary() -> str | None:
        return shutil.which("redis-server")

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> OwnRedis:
        self.starts += 1
        args = [self.binary() or "redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.log_dir)]
        self.process = Child(
            f"redis-{self.starts}", args, env=dict(os.environ), log_dir=self.log_dir
        ).start()
        wait_for(self.answers, timeout=10, what="redis-server", children=[self.process])
        return self

    def answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def shutdown(self) -> None:
        """SHUTDOWN NOSAVE: gone at once, queued messages with it."""
        import redis

        try:
            redis.Redis(port=self.port, socket_connect_timeout=1).shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it goes
        assert self.process is not None
        self.process.popen.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def django_env(**values: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings",
        "DJANGO_DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        **values,
    }


def app_server(*, env: dict[str, str], log_dir: Path, workers: int = 2) -> tuple[Child, str]:
    """The web app under gunicorn on a free port; returns it and its base URL once the API
    answers (GET /api/v1/tickets/ without a token: 401, which needs no database)."""
    port = free_port()
    args = [str(BIN / "gunicorn"), "servicedesk.wsgi", "-c", "gunicorn.conf.py"]
    args += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers)]
    if "control_socket_disable" in GunicornConfig().settings:
        # Its control socket sits in the home directory by default, one per user.
        args.append("--no-control-socket")
    server = Child("gunicorn", args, env=env, log_dir=log_dir).start()
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert server.alive, f"gunicorn exited:\n{server.log()}"
        try:
            urllib.request.urlopen(base + "/api/v1/tickets/", timeout=2)
        except urllib.error.HTTPError as error:
            return error.code == 401
        except OSError:
            return False
        return False

    wait_for(answers, timeout=30, what="gunicorn", children=[server])
    return server, base


def celery_worker(name: str, *, env: dict[str, str], log_dir: Path, concurrency: int = 2) -> Child:
    args = [str(BIN / "celery"), "-A", "servicedesk", "worker", "--loglevel=INFO"]
    args += [f"--concurrency={concurrency}", "--without-gossip", "--without-mingle"]
    args += ["--without-heartbeat", "-n", f"{name}@%h"]
    return Child(name, args, env={**env, "SERVICEDESK_VAR_DIR": str(log_dir)}, log_dir=log_dir)


def celery_beat(name: str, *, env: dict[str, str], log_dir: Path) -> Child:
    # Each beat keeps its own schedule file, as two beats on two machines would.
    var_dir = log_dir / name
    var_dir.mkdir(exist_ok=True)
    args = [str(BIN / "celery"), "-A", "servicedesk", "beat", "--loglevel=INFO"]
    args += ["--schedule", str(var_dir / "celerybeat-schedule")]
    args += ["--pidfile", str(var_dir / "beat.pid")]
    return Child(name, args, env={**env, "SERVICEDESK_VAR_DIR": str(var_dir)}, log_dir=log_dir)


def worker_ready(worker: Child) -> bool:
    """The worker has connected to its broker and takes tasks ("… ready." in its log)."""
    return " ready." in worker.log(tail=1_000_000)
