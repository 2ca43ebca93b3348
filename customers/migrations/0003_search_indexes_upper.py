"""Trigram indexes on UPPER(name) and UPPER(address), replacing those of 0002.

Django's case-insensitive ``icontains`` compares ``UPPER(column)``: an index on the bare
column (0002) is never used by it. Addresses mix Chinese with Latin letters ("B座", "A栋"),
so the search stays case-insensitive and the index follows the expression. PostgreSQL only;
nothing happens on SQLite.
"""

from django.db import migrations

OLD = {"customer_address_trgm_idx": "address", "customer_name_trgm_idx": "name"}
NEW = {"customer_address_upper_trgm_idx": "address", "customer_name_upper_trgm_idx": "name"}


def _create(schema_editor, indexes, expression):
    for name, column in indexes.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON customers_customer USING gin ({expression.format(column=column)} gin_trgm_ops)"
        )


def _drop(schema_editor, indexes):
    for name in indexes:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _create(schema_editor, NEW, "UPPER({column}::text)")
    _drop(schema_editor, OLD)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _create(schema_editor, OLD, "{column}")
    _drop(schema_editor, NEW)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("customers", "0002_search_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
