"""The dissatisfaction reasons of the return visit and the default retry policy (3 attempts,
2 hours apart); both editable in the admin."""

from django.db import migrations

REASONS = [
    ("attitude", "服务态度", 10),
    ("repair-quality", "抢修质量", 20),
    ("arrival-time", "到达时间", 30),
    ("not-fixed", "问题未解决", 40),
    ("other", "其他", 90),
]


def seed(apps, schema_editor):
    VisitReason = apps.get_model("visits", "VisitReason")
    VisitPolicy = apps.get_model("visits", "VisitPolicy")
    for code, name, order in REASONS:
        VisitReason.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})
    if not VisitPolicy.objects.exists():
        VisitPolicy.objects.create(max_attempts=3, retry_minutes=120)


def unseed(apps, schema_editor):
    apps.get_model("visits", "VisitReason").objects.filter(code__in=[r[0] for r in REASONS]).delete()


class Migration(migrations.Migration):
    dependencies = [("visits", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
