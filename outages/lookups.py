"""`has_item`: a JSON list column holds a given string, asked in SQL.

The outage's feeders and transformer areas are JSON lists. Counting outages per customer in
one query needs "this list holds the customer's feeder" in the WHERE clause, on both the
databases we run: Django's JSON `contains` is not supported on SQLite, and its `has_key`
means an object key there. So one lookup, one SQL form per database:

- PostgreSQL: `column ? 'value'` (a jsonb array's string element; served by a GIN index
  should one be added);
- SQLite (``make run``): `EXISTS (SELECT 1 FROM json_each(column) WHERE value = 'value')`.
"""

from __future__ import annotations

from django.db.models import Lookup


class HasItem(Lookup):
    lookup_name = "has_item"
    prepare_rhs = False

    def get_db_prep_lookup(self, value, connection):
        # A plain string parameter, not a JSON document.
        return ("%s", [str(value)])

    def as_sql(self, compiler, connection):  # SQLite and any other backend
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return (
            f"EXISTS (SELECT 1 FROM json_each({lhs}) WHERE json_each.value = {rhs})",
            [*lhs_params, *rhs_params],
        )

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"({lhs} ? {rhs})", [*lhs_params, *rhs_params]
