"""`make bench`: load the shared PostgreSQL data set once, then run every benchmark.

Benchmarks print figures; they assert nothing. Run one with `python -m bench sla api`.
BENCH_SPEC (JSON, the fields of `bench.data.Spec`) loads a smaller data set for a trial run.
The database is BENCH_DATABASE_URL (default: a database named servicedesk_bench on the
local PostgreSQL), never the one the app or the tests use.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

AREAS = ["sla", "api", "console", "dashboard", "storm", "visits", "field"]


def main(argv: list[str]) -> int:
    url = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench"
    )
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    _create_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from bench.data import Spec, ensure_data

    # BENCH_SPEC='{"customers": 60000, …}' loads a smaller data set (a trial run).
    ensure_data(Spec(**json.loads(os.environ.get("BENCH_SPEC", "{}"))))
    wanted = [a for a in argv if a in AREAS] or AREAS
    for area in wanted:
        try:
            module = importlib.import_module(f"bench.bench_{area}")
        except ModuleNotFoundError:
            print(f"\n== {area}: no benchmark yet")
            continue
        print(f"\n== {area}", flush=True)
        started = time.perf_counter()
        module.run(database_url=url)
        print(f"   ({area} took {time.perf_counter() - started:.0f} s)", flush=True)
    return 0


def _create_database(url: str) -> None:
    import dj_database_url
    import psycopg2
    from psycopg2 import sql

    config = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname="postgres",
        user=config["USER"] or "postgres",
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
        password=config["PASSWORD"] or None,
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
    conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
