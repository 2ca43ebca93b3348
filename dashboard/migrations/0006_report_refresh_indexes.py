"""Indexes for the period report's aggregates (on other apps' tables, like 0002):

- the refresh pass finds the days to sum again from orders saved since its last pass
  (`updated_at`) and breaches recorded since (`recorded_at`): a range read of a minute's
  changes, however many millions of rows lie behind;
- a report counts the distinct outages of its orders from the rows (an outage can span
  days): the partial index holds only orders linked to an outage;
- a report filtered by agent counts that agent's repeat repairs from the rows.

Built CONCURRENTLY on PostgreSQL so the tables stay writable while a live system migrates.
"""

from django.db import migrations

INDEXES = [
    ("dashboard_ticket_updated_idx", "tickets_ticket (updated_at)", ""),
    ("dashboard_breach_recorded_idx", "sla_breach (recorded_at)", ""),
    (
        "dashboard_ticket_outage_created_idx",
        "tickets_ticket (created_at)",
        "WHERE outage_id IS NOT NULL",
    ),
    ("dashboard_ticket_owner_created_idx", "tickets_ticket (owner_id, created_at)", ""),
]


def _concurrently(schema_editor) -> str:
    return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""


def create(apps, schema_editor):
    how = _concurrently(schema_editor)
    for name, target, where in INDEXES:
        schema_editor.execute(f"CREATE INDEX {how}IF NOT EXISTS {name} ON {target} {where}")


def drop(apps, schema_editor):
    how = _concurrently(schema_editor)
    for name, *_rest in INDEXES:
        schema_editor.execute(f"DROP INDEX {how}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("dashboard", "0005_wallboard_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
