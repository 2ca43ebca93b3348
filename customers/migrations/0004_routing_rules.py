"""Routing as data: the rules table, the fallback unit, and rules equivalent to the old code.

Before this migration `tickets/routing.py` sent a repair to the crew of its service area,
and any order to the supply station of its area when the station listed the category, else
to the first active unit (by code) listing it in `HandlingUnit.categories`. The seed writes
that as rules, so routing does not change on the day this lands:

- repair → the crew of the order's service area (every area);
- each area whose supply station listed a category → that area's station, for it;
- each unit that listed a category → that unit, priority 100 + its place by code (the
  first by code is tried first), below the two above.

And the first active call-centre unit, if any, becomes the fallback: an order no rule
routes goes to the centre's own desk, which sends it on by hand (转派).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


AREA_CREW_NOTE = "repair → the crew of the customer's service area"


def seed(apps, schema_editor):
    RoutingRule = apps.get_model("customers", "RoutingRule")
    HandlingUnit = apps.get_model("customers", "HandlingUnit")
    ServiceArea = apps.get_model("customers", "ServiceArea")
    RoutingRule.objects.get_or_create(
        category="repair",
        subtype=None,
        service_area=None,
        target="area_crew",
        defaults={"priority": 10, "note": AREA_CREW_NOTE},
    )
    for area in ServiceArea.objects.filter(station__isnull=False).select_related("station"):
        for category in area.station.categories or []:
            if category == "repair":
                continue
            RoutingRule.objects.get_or_create(
                category=category,
                subtype=None,
                service_area=area,
                target="area_station",
                defaults={"priority": 10, "note": "the area's supply station (was its categories)"},
            )
    for place, unit in enumerate(HandlingUnit.objects.order_by("code")):
        for category in unit.categories or []:
            RoutingRule.objects.get_or_create(
                category=category,
                subtype=None,
                service_area=None,
                target="unit",
                unit=unit,
                defaults={"priority": min(100 + place, 32000), "note": "was the unit's categories"},
            )
    if not HandlingUnit.objects.filter(is_fallback=True).exists():
        centre = (
            HandlingUnit.objects.filter(kind="call_centre", is_active=True).order_by("code").first()
        )
        if centre is not None:
            centre.is_fallback = True
            centre.save(update_fields=["is_fallback"])


def unseed(apps, schema_editor):
    apps.get_model("customers", "RoutingRule").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0003_search_indexes_upper'),
        ('tickets', '0002_seed_taxonomy'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RoutingRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('category', models.CharField(max_length=20, verbose_name='category')),
                ('target', models.CharField(choices=[('unit', 'The unit named here'), ('area_crew', "The repair crew of the order's service area"), ('area_station', "The supply station of the order's service area")], default='unit', max_length=20, verbose_name='sends to')),
                ('priority', models.PositiveSmallIntegerField(default=100, help_text='Among equally specific rules, the lowest number is tried first.', verbose_name='priority')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='source or note')),
            ],
            options={
                'verbose_name': 'routing rule',
                'verbose_name_plural': 'routing rules',
                'ordering': ['category', 'priority', 'id'],
            },
        ),
        migrations.AddField(
            model_name='handlingunit',
            name='is_fallback',
            field=models.BooleanField(default=False, help_text='Receives every order no routing rule sends elsewhere, so no order is left unrouted. Exactly one active unit is the fallback.', verbose_name='fallback unit'),
        ),
        migrations.AlterField(
            model_name='handlingunit',
            name='categories',
            field=models.JSONField(blank=True, default=list, help_text='No longer used for routing: see the routing rules.', verbose_name='handles categories'),
        ),
        migrations.AddConstraint(
            model_name='handlingunit',
            constraint=models.UniqueConstraint(condition=models.Q(('is_fallback', True)), fields=('is_fallback',), name='customers_one_fallback_unit'),
        ),
        migrations.AddField(
            model_name='routingrule',
            name='service_area',
            field=models.ForeignKey(blank=True, help_text='Blank: every service area.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='routing_rules', to='customers.servicearea', verbose_name='service area'),
        ),
        migrations.AddField(
            model_name='routingrule',
            name='subtype',
            field=models.ForeignKey(blank=True, help_text="Blank: every sub-type. Matches the order's sub-type or its detail.", null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='tickets.subtype', verbose_name='sub-type'),
        ),
        migrations.AddField(
            model_name='routingrule',
            name='unit',
            field=models.ForeignKey(blank=True, help_text='Required when the rule sends to the unit named here.', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='routing_rules', to='customers.handlingunit', verbose_name='handling unit'),
        ),
        migrations.AddIndex(
            model_name='routingrule',
            index=models.Index(fields=['category', 'is_active'], name='routing_rule_category_idx'),
        ),
        migrations.RunPython(seed, unseed),
    ]
