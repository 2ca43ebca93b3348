"""Seed the holiday table from the chinesecalendar package (every year it publishes).

`python manage.py sla_load_holidays` refreshes it after a package upgrade; an
administrator can add a newly published year in the admin before the package has it.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from sla.policy import china_calendar_rows

    Holiday = apps.get_model("sla", "Holiday")
    HolidayYear = apps.get_model("sla", "HolidayYear")
    rows = china_calendar_rows(range(2000, 2100))
    existing = set(Holiday.objects.values_list("day", flat=True))
    Holiday.objects.bulk_create(
        [Holiday(day=day, is_working_day=working, name=name) for day, working, name in rows if day not in existing]
    )
    for year in sorted({day.year for day, _working, _name in rows}):
        HolidayYear.objects.get_or_create(year=year, defaults={"source": "chinesecalendar"})


def unseed(apps, schema_editor):
    apps.get_model("sla", "HolidayYear").objects.filter(source="chinesecalendar").delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0002_seed_default_rules")]

    operations = [migrations.RunPython(seed, unseed)]
