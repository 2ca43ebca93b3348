from django.db import migrations


def seed(apps, schema_editor):
    from tickets.taxonomy import TAXONOMY

    SubType = apps.get_model("tickets", "SubType")
    for order, (category, code, name, separately, details) in enumerate(TAXONOMY):
        parent, _ = SubType.objects.get_or_create(
            code=code,
            defaults={"category": category, "name": name, "sort_order": order, "counted_separately": separately},
        )
        for detail_order, (detail_code, detail_name) in enumerate(details):
            SubType.objects.get_or_create(
                code=detail_code,
                defaults={"category": category, "name": detail_name, "parent": parent, "sort_order": detail_order},
            )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
