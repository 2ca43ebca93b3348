"""Orders keep a copy of their running clocks' due times (the lists show them without reading
the timers); the open orders of an existing database get theirs from their running timers."""

from zoneinfo import ZoneInfo

from django.db import migrations, models

BEIJING = ZoneInfo("Asia/Shanghai")
BATCH = 5000


def copy_running_deadlines(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Timer = apps.get_model("sla", "Timer")
    running = Timer.objects.filter(stopped_at__isnull=True)
    after = 0
    while True:
        # A batch of orders at a time, by id: a large table never loads at once.
        ids = list(
            running.filter(ticket_id__gt=after)
            .order_by("ticket_id")
            .values_list("ticket_id", flat=True)
            .distinct()[:BATCH]
        )
        if not ids:
            return
        deadlines: dict[int, dict[str, str]] = {pk: {} for pk in ids}
        for ticket_id, name, due_at in (
            running.filter(ticket_id__in=ids).order_by("due_at", "id").values_list("ticket_id", "name", "due_at")
        ):
            deadlines[ticket_id][name] = due_at.astimezone(BEIJING).isoformat()
        Ticket.objects.bulk_update(
            [Ticket(pk=pk, deadlines=value) for pk, value in deadlines.items()], ["deadlines"], batch_size=1000
        )
        after = ids[-1]


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0006_ticket_to_complete"),
        ("sla", "0006_estimated_running_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="deadlines",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="running deadlines"),
        ),
        migrations.RunPython(copy_running_deadlines, migrations.RunPython.noop),
    ]
