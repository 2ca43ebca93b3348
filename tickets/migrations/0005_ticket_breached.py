from django.db import migrations, models
from django.db.models import Exists, OuterRef


def flag_breached_orders(apps, schema_editor):
    """Orders taken before the flag existed: breached when the breach table says so."""
    Ticket = apps.get_model("tickets", "Ticket")
    Breach = apps.get_model("sla", "Breach")
    Ticket.objects.filter(Exists(Breach.objects.filter(ticket=OuterRef("pk")))).update(breached=True)


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0006_estimated_running_index"),
        ("tickets", "0004_list_order_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="breached",
            field=models.BooleanField(default=False, editable=False, verbose_name="limit breached"),
        ),
        migrations.RunPython(flag_breached_orders, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("breached", True)),
                fields=["created_at", "id"],
                name="ticket_breached_created_idx",
            ),
        ),
    ]
