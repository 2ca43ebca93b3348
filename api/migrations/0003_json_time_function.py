"""`api_iso_beijing(timestamptz)`: a time as the API writes it, for lists PostgreSQL renders.

The text `api.serializers.iso` makes in Python: ISO-8601 in Beijing time, microseconds only
when there are any, the zone's offset at that instant (with seconds where it has any, the
local mean time before 1901). A list page the database writes as JSON
(api.selectors.TicketPage) then shows the same times as every other answer. A plain SQL
expression, which PostgreSQL inlines into the query that calls it. PostgreSQL only;
elsewhere the pages are written in Python.
"""

from django.db import migrations

# Beijing's offset has been +08:00 since its last summer time ended (1991-09-15 02:00 local):
# the time zone database holds no change after it. Earlier times work the offset out (an
# interval written as text, a third of the cost of a list row's times).
EIGHT_HOURS_SINCE = "1991-09-14 17:00:00+00"

FUNCTION = """
CREATE OR REPLACE FUNCTION api_iso_beijing(ts timestamptz) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT replace(to_char(ts AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                 '.000000', '')
         || CASE WHEN ts >= '%(since)s' THEN '+08:00'
                 ELSE '+' || to_char((ts AT TIME ZONE 'Asia/Shanghai') - (ts AT TIME ZONE 'UTC'),
                                     CASE WHEN to_char(ts AT TIME ZONE 'Asia/Shanghai', 'SS')
                                               = to_char(ts AT TIME ZONE 'UTC', 'SS')
                                          THEN 'HH24:MI' ELSE 'HH24:MI:SS' END)
            END
$$
""" % {"since": EIGHT_HOURS_SINCE}


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS api_iso_beijing(timestamptz)")


class Migration(migrations.Migration):
    dependencies = [("api", "0002_idempotency_client_covered_by_unique")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
