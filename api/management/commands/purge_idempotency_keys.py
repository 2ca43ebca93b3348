"""`python manage.py purge_idempotency_keys [--days 7]`: forget old Idempotency-Keys.

Clients retry within minutes; a week of keys is plenty. Run it daily (cron or beat).
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand

from api.services import idempotency_purge


class Command(BaseCommand):
    help = "Delete idempotency records older than --days days."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days: int, **options) -> None:
        deleted = idempotency_purge(older_than=timedelta(days=max(days, 1)))
        self.stdout.write(f"Deleted {deleted} idempotency records older than {max(days, 1)} days.")
