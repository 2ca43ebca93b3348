"""Indexes for the wall screen's reads at the scale of a provincial centre (on other apps'
tables, like 0002), found by EXPLAIN on a million open orders:

- counting timers at risk reads a covering partial index (no table access) instead of the
  bare one of 0002;
- the "orders at risk" list takes the earliest-due running timers (ordered index, LIMIT)
  and the few supervised or hastened open orders, instead of sorting every timer at risk;
- the supervised list and the latest breaches are read in index order, LIMIT 30.

Built CONCURRENTLY on PostgreSQL so the tables stay writable while a live system migrates.
"""

from django.db import migrations

OPEN = "('accepted', 'dispatched', 'acknowledged', 'on_site')"
BOTH = [
    ("dashboard_timer_running_due_idx", "sla_timer (due_at)", "stopped_at IS NULL"),
    (
        "dashboard_ticket_singled_out_idx",
        "tickets_ticket (supervised DESC, call_count DESC, created_at)",
        f"status IN {OPEN} AND (supervised OR call_count > 1)",
    ),
    (
        "dashboard_breach_open_recent_idx",
        "sla_breach (recorded_at DESC, id DESC)",
        "acknowledged_at IS NULL",
    ),
]
POSTGRESQL = [
    (
        "dashboard_timer_risk_cover_idx",
        "sla_timer (at_risk_at) INCLUDE (due_at, name, area_type, handling_unit_id, owner_id)",
        "stopped_at IS NULL",
    ),
]
# Superseded by the ones above (on SQLite the covering index does not exist: keep the bare one).
SUPERSEDED_BOTH = ["dashboard_breach_open_idx"]
SUPERSEDED_POSTGRESQL = ["dashboard_timer_running_risk_idx"]


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def create(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    how = _concurrently(schema_editor)
    for name, target, where in BOTH + (POSTGRESQL if postgresql else []):
        schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {name} ON {target} WHERE {where}")
    for name in SUPERSEDED_BOTH + (SUPERSEDED_POSTGRESQL if postgresql else []):
        schema_editor.execute(f"DROP INDEX {how}IF EXISTS {name}")


def drop(apps, schema_editor):
    postgresql = schema_editor.connection.vendor == "postgresql"
    how = _concurrently(schema_editor)
    schema_editor.execute(
        f"CREATE INDEX {how}IF NOT EXISTS dashboard_breach_open_idx ON sla_breach (recorded_at) "
        "WHERE acknowledged_at IS NULL"
    )
    if postgresql:
        schema_editor.execute(
            f"CREATE INDEX {how}IF NOT EXISTS dashboard_timer_running_risk_idx ON sla_timer "
            "(at_risk_at) WHERE stopped_at IS NULL"
        )
    for name, *_rest in BOTH + (POSTGRESQL if postgresql else []):
        schema_editor.execute(f"DROP INDEX {how}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("dashboard", "0004_wallboard_counts"),
    ]

    operations = [migrations.RunPython(create, drop)]
