"""Seed the default time limits of SPEC section 4 and the escalation ladder.

These are the numbers of the source documents; utilities differ, so every one of them is
editable in the admin (a change opens a new rule version, old orders keep theirs).
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

SINCE = datetime(2000, 1, 1, tzinfo=UTC)

# (timer, category, area type, amount, unit, start event, stop event, active, note)
DEFAULT_RULES = [
    ("answer", "", "", 12, "seconds", "ring", "answer", True, "12 s (4 rings)"),
    # Every order that leaves the agent; the clock starts when the linked call ends.
    ("dispatch", "", "", 3, "minutes", "call_ended", "dispatched", True, "3 min, also as an average"),
    ("arrival", "repair", "urban", 40, "minutes", "dispatched", "arrived", True, "urban 40 min"),
    ("arrival", "repair", "rural", 85, "minutes", "dispatched", "arrived", True, "rural 85 min"),
    ("arrival", "repair", "remote", 120, "minutes", "dispatched", "arrived", True, "remote mountain 120 min"),
    ("reply", "complaint", "", 5, "calendar_days", "created", "replied", True, "complaint reply 5 days"),
    ("reply", "report", "", 10, "calendar_days", "created", "replied", True, "report reply 10 days"),
    ("callback", "inquiry", "", 1, "calendar_days", "created", "replied", True, "inquiry callback 1 day"),
    # Newer commitments; off by default.
    ("restoration", "repair", "urban", 3, "hours", "arrived", "restored", False, "urban 3 h (off by default)"),
    ("restoration", "repair", "rural", 4, "hours", "arrived", "restored", False, "rural 4 h (off by default)"),
    ("restoration", "repair", "remote", 4, "hours", "arrived", "restored", False, "remote 4 h (off by default)"),
]

# (level, minutes after the breach): 1 = the unit's supervisors at once,
# 2 = the parent unit's supervisors (centre management) if still running 30 min later.
DEFAULT_LADDER = [(1, 0), (2, 30)]


def seed(apps, schema_editor):
    SlaRule = apps.get_model("sla", "SlaRule")
    EscalationStep = apps.get_model("sla", "EscalationStep")
    for name, category, area_type, amount, unit, start, stop, active, note in DEFAULT_RULES:
        SlaRule.objects.get_or_create(
            name=name, category=category, area_type=area_type, subtype=None, important=None,
            effective_from=SINCE,
            defaults={
                "amount": amount, "unit": unit, "start_event": start, "stop_event": stop,
                "at_risk_share": Decimal("0.80"), "is_active": active, "note": note,
            },
        )
    for level, minutes in DEFAULT_LADDER:
        EscalationStep.objects.get_or_create(name="", level=level, defaults={"after_minutes": minutes})


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaRule").objects.filter(effective_from=SINCE, timers__isnull=True).delete()
    apps.get_model("sla", "EscalationStep").objects.filter(name="").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
