"""The wall screen's supervised and hastened open orders: the partial index of 0005 listed
the open states before `handed_back` existed, so its condition no longer matched the
query's (`tickets.models.OPEN_STATUSES`) and PostgreSQL read every order instead. Rebuilt
with the states as they are now; `tests/dashboard/test_dashboard_wall_counts.py` checks the
index still covers every open state.

Built CONCURRENTLY on PostgreSQL so the table stays writable while a live system migrates.
"""

from django.db import migrations

NAME = "dashboard_ticket_singled_out_idx"
TARGET = "tickets_ticket (supervised DESC, call_count DESC, created_at)"
OPEN_NOW = "('accepted', 'dispatched', 'acknowledged', 'on_site', 'handed_back')"
OPEN_BEFORE = "('accepted', 'dispatched', 'acknowledged', 'on_site')"


def _rebuild(schema_editor, states: str) -> None:
    how = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {how}IF EXISTS {NAME}")
    schema_editor.execute(
        f"CREATE INDEX {how}{NAME} ON {TARGET} "
        f"WHERE status IN {states} AND (supervised OR call_count > 1)"
    )


def forward(apps, schema_editor):
    _rebuild(schema_editor, OPEN_NOW)


def backward(apps, schema_editor):
    _rebuild(schema_editor, OPEN_BEFORE)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("dashboard", "0006_report_refresh_indexes"),
        ("tickets", "0008_handback_check_terminate"),
    ]

    operations = [migrations.RunPython(forward, backward)]
