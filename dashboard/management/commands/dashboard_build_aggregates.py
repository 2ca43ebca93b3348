"""Sum past days into the period report's aggregates (back-fill, or repair after a restore).

The beat task keeps recent days current; this command builds a range at once, e.g. a year
after installing the dashboard on a centre with history:

    python manage.py dashboard_build_aggregates --days 400
    python manage.py dashboard_build_aggregates --start 2024-01-01 --end 2024-12-31
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.metrics.basics import beijing_day
from dashboard.services import aggregates_build_range


class Command(BaseCommand):
    help = "Build the period report's per-day aggregates for a range of Beijing days."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=0, help="The last N days, today included.")
        parser.add_argument("--start", type=date.fromisoformat, help="First day (YYYY-MM-DD).")
        parser.add_argument("--end", type=date.fromisoformat, help="Last day (default: today).")

    def handle(self, *args, days: int, start: date | None, end: date | None, **options) -> None:
        now = timezone.now()
        today = beijing_day(now)
        last = min(end or today, today)
        if days:
            first = today - timedelta(days=days - 1)
        elif start:
            first = start
        else:
            raise CommandError("Give --days N or --start YYYY-MM-DD.")
        if first > last:
            raise CommandError("The start must not come after the end.")
        started = time.perf_counter()
        built = aggregates_build_range(first=first, last=last, now=now)
        self.stdout.write(
            f"built {built} days ({first} to {last}) in {time.perf_counter() - started:.1f} s"
        )
