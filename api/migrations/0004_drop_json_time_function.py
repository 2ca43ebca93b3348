"""The list no longer has PostgreSQL write its rows as JSON: the time function goes."""

from django.db import migrations


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS api_iso_beijing(timestamptz)")


class Migration(migrations.Migration):
    dependencies = [("api", "0003_json_time_function")]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop)]
