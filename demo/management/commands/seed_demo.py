from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from demo.seed import DEMO_PASSWORD, USERS, seed_demo


class Command(BaseCommand):
    help = "Load the demo centre (areas, crews, customers, outages, orders, users). Idempotent."

    def handle(self, *args, **options):
        report = seed_demo()
        self.stdout.write(
            _("Demo data ready (%(orders)d new orders).") % {"orders": report.created["orders"]}
        )
        self.stdout.write(_("Demo logins (password %(password)s):") % {"password": DEMO_PASSWORD})
        for username, role, full_name, _staff in USERS:
            self.stdout.write(f"  {username:<12} {role:<11} {full_name}")
