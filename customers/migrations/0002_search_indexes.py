"""Trigram indexes for the agent console's customer search (PostgreSQL only).

An agent types part of an address ("幸福路12号") or a company name ("人民医院") while the
customer talks; ``ILIKE '%…%'`` on a million customers needs a trigram GIN index to answer
at once. pg_trgm treats CJK characters as word characters, so Chinese text is indexed.
SQLite (the embedded default for trying the app) has no such index: the operations do
nothing there. Built CONCURRENTLY so a live customer table is not locked for writes.
"""

from django.db import migrations

INDEXES = {
    "customer_address_trgm_idx": "address",
    "customer_name_trgm_idx": "name",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
            f"ON customers_customer USING gin ({column} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [("customers", "0001_initial")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
