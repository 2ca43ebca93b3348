"""Load China's official holidays and adjusted working days from the chinesecalendar package.

Run it after upgrading the package (it learns a new year each December). Idempotent: rows
the package knows are inserted or corrected; days an administrator added for years the
package does not know yet are left alone.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from sla.services.rules import holidays_load


class Command(BaseCommand):
    help = "Load the holiday table (法定节假日 and 调休) from the chinesecalendar package."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from-year", type=int, default=2004)
        parser.add_argument("--to-year", type=int, default=2099)

    def handle(self, *args, from_year: int, to_year: int, **options) -> None:
        result = holidays_load(years=range(from_year, to_year + 1))
        self.stdout.write(
            f"years={','.join(str(y) for y in result.years) or '-'} created={result.created} "
            f"updated={result.updated}"
        )
