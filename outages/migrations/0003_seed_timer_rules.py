"""Seed the outage reporting limits of SPEC section 4: a fault outage entered within 5 min
of its confirmation, its expected restoration updated within 5 min once it has passed, and
its restoration recorded within 5 min of power back. Editable in the admin."""

from django.db import migrations

# (timer, outage kind, minutes, note)
DEFAULT_RULES = [
    ("entry", "fault", 5, "fault outage entered within 5 min of confirmation"),
    ("restoration_update", "fault", 5, "expected restoration updated within 5 min once passed"),
    ("restoration_record", "fault", 5, "restoration recorded within 5 min of power back"),
]


def seed(apps, schema_editor):
    OutageTimerRule = apps.get_model("outages", "OutageTimerRule")
    for name, kind, minutes, note in DEFAULT_RULES:
        OutageTimerRule.objects.get_or_create(
            name=name, kind=kind, defaults={"minutes": minutes, "note": note}
        )


class Migration(migrations.Migration):
    dependencies = [("outages", "0002_register_dispatch_timers")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
