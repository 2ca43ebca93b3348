"""Indexes the supervisors' pages need on other apps' tables, created here so each stays small.

Partial indexes hold only the rows the wall screen asks about every few seconds (calls still
ringing, breaches not yet acknowledged, timers still running), so those reads stay cheap
however many millions of finished rows pile up. On PostgreSQL, covering indexes on the
period columns let a month's report read calls and orders from the index alone.
"""

from django.db import migrations

PARTIAL = [
    (
        "dashboard_call_waiting_idx",
        "calls_call",
        "ring_at",
        "answer_at IS NULL AND hangup_at IS NULL",
    ),
    ("dashboard_breach_open_idx", "sla_breach", "recorded_at", "acknowledged_at IS NULL"),
    ("dashboard_timer_running_risk_idx", "sla_timer", "at_risk_at", "stopped_at IS NULL"),
]
COVERING = [
    ("dashboard_call_period_idx", "calls_call", "ring_at", "answer_at, hangup_at, agent_id"),
    (
        "dashboard_ticket_period_idx",
        "tickets_ticket",
        "created_at",
        "category, area_type, handling_unit_id, owner_id, subtype_id, master_id, outage_id, satisfaction, "
        "dispatched_at, call_id, reopen_count",
    ),
]


def create(apps, schema_editor):
    for name, table, column, where in PARTIAL:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column}) WHERE {where}"
        )
    if schema_editor.connection.vendor == "postgresql":
        for name, table, column, include in COVERING:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({column}) INCLUDE ({include})"
            )


def drop(apps, schema_editor):
    for name, *_rest in PARTIAL + COVERING:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_metric_settings"),
        ("calls", "0001_initial"),
        ("tickets", "0002_seed_taxonomy"),
        ("sla", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, drop)]
