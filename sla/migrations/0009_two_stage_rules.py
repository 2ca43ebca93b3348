"""Seed one two-stage limit, switched off: reconnection after arrears (欠费复电).

SPEC section 4: "Some limits are two-stage (do it, then reply on the order, e.g. 24 h then
1 working day)". The two stages are two rules of the same sub-type (sla/README.md, "Two-stage
limits"): `handling` from dispatch until the unit hands the order back (24 hours), then
`reply` from the hand-back until the centre accepts it (1 working day). The source
documents of seed/ give no number for reconnection, so the example ships inactive, like the
restoration rules; an administrator switches on the first stage, then the second.
"""

from datetime import UTC, datetime
from decimal import Decimal

from django.db import migrations

SINCE = datetime(2000, 1, 1, tzinfo=UTC)
SUBTYPE = "app-reconnect"

# (timer, amount, unit, start event, stop event, note)
STAGES = [
    (
        "handling",
        24,
        "hours",
        "dispatched",
        "handed_back",
        "欠费复电: reconnect within 24 h (stage 1, off by default)",
    ),
    (
        "reply",
        1,
        "working_days",
        "handed_back",
        "checked",
        "欠费复电: reply on the order within 1 working day (stage 2, off by default)",
    ),
]


def seed(apps, schema_editor):
    SlaRule = apps.get_model("sla", "SlaRule")
    SubType = apps.get_model("tickets", "SubType")
    subtype = SubType.objects.filter(code=SUBTYPE).first()
    if subtype is None:
        return
    for name, amount, unit, start, stop, note in STAGES:
        SlaRule.objects.get_or_create(
            name=name,
            category="application",
            subtype=subtype,
            area_type="",
            important=None,
            effective_from=SINCE,
            start_event=start,
            defaults={
                "amount": amount,
                "unit": unit,
                "stop_event": stop,
                "at_risk_share": Decimal("0.80"),
                "is_active": False,
                "note": note,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("sla", "SlaRule").objects.filter(
        subtype__code=SUBTYPE,
        effective_from=SINCE,
        start_event__in=["dispatched", "handed_back"],
        timers__isnull=True,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0007_milestone_timers"), ("tickets", "0002_seed_taxonomy")]

    operations = [migrations.RunPython(seed, unseed)]
