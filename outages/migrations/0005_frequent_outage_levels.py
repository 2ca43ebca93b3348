"""Frequent outages (频繁停电): the levels as data, seeded with 60 days, warning at 3 and
frequent at 4 (the figures of the issue: "3 and 4 in two months"; the regulation excerpts
we hold give no figures), and an index on the outages' start for the rolling window."""

from django.db import migrations, models


def seed(apps, schema_editor):
    FrequentOutageLevel = apps.get_model("outages", "FrequentOutageLevel")
    if not FrequentOutageLevel.objects.filter(is_active=True).exists():
        FrequentOutageLevel.objects.create(
            window_days=60,
            warning_count=3,
            frequent_count=4,
            is_active=True,
            note="3 outages in two months: warning; 4: frequent",
        )


class Migration(migrations.Migration):

    dependencies = [
        ('outages', '0004_text_notices'),
    ]

    operations = [
        migrations.CreateModel(
            name='FrequentOutageLevel',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('window_days', models.PositiveSmallIntegerField(default=60, help_text='Outages started in the last N days count.', verbose_name='window (days)')),
                ('warning_count', models.PositiveSmallIntegerField(default=3, verbose_name='warning from (outages)')),
                ('frequent_count', models.PositiveSmallIntegerField(default=4, verbose_name='frequent from (outages)')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='source or note')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated at')),
            ],
            options={
                'verbose_name': 'frequent-outage levels',
                'verbose_name_plural': 'frequent-outage levels',
                'ordering': ['-is_active', 'pk'],
            },
        ),
        migrations.AddIndex(
            model_name='outage',
            index=models.Index(fields=['starts_at'], name='outage_starts_at_idx'),
        ),
        migrations.AddConstraint(
            model_name='frequentoutagelevel',
            constraint=models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('is_active',), name='frequent_outage_level_one_active', violation_error_message='Only one set of levels can be active at a time.'),
        ),
        migrations.AddConstraint(
            model_name='frequentoutagelevel',
            constraint=models.CheckConstraint(condition=models.Q(('window_days__gte', 1), ('warning_count__gte', 1), ('frequent_count__gte', models.F('warning_count'))), name='frequent_outage_level_ordered'),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
