"""`api_iso_beijing(timestamptz)`: a time as the API writes it, for lists PostgreSQL renders.

The text `api.serializers.iso` makes in Python: ISO-8601 in Beijing time, microseconds only
when there are any, the zone's offset at that instant (with seconds where it has any, the
local mean time before 1901). A list page the database writes as JSON
(api.selectors.TicketPage) then shows the same times as every other answer. A plain SQL
expression, which PostgreSQL inlines into the query that calls it. PostgreSQL only;
elsewhere the pages are written in Python.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION api_iso_beijing(ts timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT to_char(
           ts AT TIME ZONE 'Asia/Shanghai',
           CASE WHEN to_char(ts, 'US') = '000000' THEN 'YYYY-MM-DD"T"HH24:MI:SS'
                ELSE 'YYYY-MM-DD"T"HH24:MI:SS.US' END
         )
         || '+'
         || to_char((ts AT TIME ZONE 'Asia/Shanghai') - (ts AT TIME ZONE 'UTC'),
                    CASE WHEN to_char(ts AT TIME ZONE 'Asia/Shanghai', 'SS')
                              = to_char(ts AT TIME ZONE 'UTC', 'SS')
                         THEN 'HH24:MI' ELSE 'HH24:MI:SS' END)
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS api_iso_beijing(timestamptz)")


class Migration(migrations.Migration):
    dependencies = [("api", "0002_idempotency_client_covered_by_unique")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
