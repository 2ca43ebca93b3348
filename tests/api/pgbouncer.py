"""A PgBouncer of the test's own, in transaction mode, in front of the test database.

Transaction mode is how many web processes share a few database sessions: each transaction
(or each statement outside one) goes to whichever server connection is free, so nothing a
request leaves behind in a session — a prepared statement, a `SET`, sequence values drawn
ahead — is there for its next statement. A test that runs the app through it proves the app
keeps no such state.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2

# Debian installs it in /usr/sbin, which is not on every user's PATH.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
# PgBouncer refuses to run as root; as root the test runs it as the database's own OS user.
OS_USER = "postgres"


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer", path=SEARCH_PATH)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PgBouncer:
    """One PgBouncer process on a free port, pooling `dbname` of the server at host:port.

    Its ini file, auth file, log and pid file live in a temporary directory the OS user it
    runs as can read and write (pytest's tmp_path is private to root). `start()` returns once
    a query has gone through it; `stop()` ends it, which closes its server connections, so
    the test database can be flushed and dropped afterwards.
    """

    def __init__(
        self,
        *,
        dbname: str,
        host: str = "127.0.0.1",
        port: int = 5432,
        user: str = "postgres",
        pool_size: int = 4,
    ) -> None:
        self.dbname, self.user = dbname, user
        self.server_host, self.server_port = host, port
        self.pool_size = pool_size
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.log_path = self.directory / "pgbouncer.log"
        self.process: subprocess.Popen | None = None

    def url(self) -> str:
        """The DATABASE_URL of the test database through this PgBouncer."""
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.dbname}"

    def _write_config(self) -> Path:
        (self.directory / "userlist.txt").write_text(f'"{self.user}" ""\n')
        ini = self.directory / "pgbouncer.ini"
        ini.write_text(
            f"""\
[databases]
{self.dbname} = host={self.server_host} port={self.server_port} dbname={self.dbname} user={self.user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.port}
unix_socket_dir =
auth_type = trust
auth_file = {self.directory / "userlist.txt"}
admin_users = {self.user}
pool_mode = transaction
default_pool_size = {self.pool_size}
max_client_conn = 200
; Hand out the server connection idle the longest (rather than the one just released),
; so consecutive transactions of one client session land on different server sessions
; every time, not only when the pool is busy.
server_round_robin = 1
logfile = {self.log_path}
pidfile = {self.directory / "pgbouncer.pid"}
"""
        )
        return ini

    def start(self, *, timeout: float = 10.0) -> PgBouncer:
        binary = pgbouncer_binary()
        assert binary, "pgbouncer is not installed"
        ini = self._write_config()
        command = [binary, "-q", str(ini)]
        if os.geteuid() == 0:
            for path in [self.directory, *self.directory.iterdir()]:
                shutil.chown(path, user=OS_USER)
            command[1:1] = ["-u", OS_USER]
        stderr = (self.directory / "stderr.log").open("ab")
        self.process = subprocess.Popen(
            command, stdout=stderr, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        stderr.close()
        self._wait_until_it_answers(timeout)
        return self

    def _wait_until_it_answers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"pgbouncer exited with {self.process.returncode}:\n{self.log()}"
                )
            try:
                self._fill_pool()
                return
            except psycopg2.OperationalError as exc:
                error = exc
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"pgbouncer did not answer within {timeout} s ({error}):\n{self.log()}")

    def _fill_pool(self) -> None:
        """Open every server connection of the pool now: as many clients as the pool holds,
        each inside a transaction at once. Left idle afterwards, they take turns from the
        first request on (see server_round_robin), instead of one connection serving a
        quiet test alone."""
        clients = []
        try:
            backends = set()
            for _ in range(self.pool_size):
                client = psycopg2.connect(self.url(), connect_timeout=2)
                clients.append(client)
                with client.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    backends.add(cursor.fetchone()[0])
            assert len(backends) == self.pool_size, backends
        finally:
            for client in clients:
                client.rollback()
                client.close()

    def stop(self) -> None:
        # SIGINT is a safe shutdown in every version (SIGTERM waits for clients to leave
        # since 1.23): it finishes what runs on its server connections, closes them, exits.
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("stderr.log", "pgbouncer.log"):
            path = self.directory / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)
