"""The return-visit window (回访): a visit within 24 h of resolution, like the other limits.

Editable in the admin (a change opens a new rule version); the index serves the
return-visit queue (running visit clocks, nearest first).
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations, models

SINCE = datetime(2000, 1, 1, tzinfo=UTC)


def seed(apps, schema_editor):
    SlaRule = apps.get_model("sla", "SlaRule")
    SlaRule.objects.get_or_create(
        name="visit", category="", area_type="", subtype=None, important=None,
        effective_from=SINCE,
        defaults={
            "amount": 24, "unit": "hours", "start_event": "resolved", "stop_event": "visited",
            "at_risk_share": Decimal("0.80"), "is_active": True,
            "note": "return visit within 24 h of resolution",
        },
    )


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaRule").objects.filter(
        name="visit", effective_from=SINCE, timers__isnull=True
    ).delete()


class Migration(migrations.Migration):

    dependencies = [("sla", "0007_milestone_timers")]

    operations = [
        migrations.RunPython(seed, unseed),
        migrations.AddIndex(
            model_name='timer',
            index=models.Index(condition=models.Q(('name', 'visit'), ('stopped_at__isnull', True)), fields=['due_at', 'id'], name='sla_timer_visit_due_idx'),
        ),
    ]
