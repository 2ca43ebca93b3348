from django.db import migrations

# The centre manager (中心管理): the supervisors' pages and every order, no order work.
ROLES = ["manager"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_roles")]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
