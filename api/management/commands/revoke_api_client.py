"""`python manage.py revoke_api_client NAME`: the client's token stops working at once.

The client row stays, so the timeline still names who did what; `create_api_client NAME
--rotate` gives it a new token later.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from api.models import ApiClient
from api.services import api_client_revoke


class Command(BaseCommand):
    help = "Revoke an integration client's token."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")

    def handle(self, *args, name: str, **options) -> None:
        client = ApiClient.objects.filter(name=name).first()
        if client is None:
            raise CommandError(f"No client named {name!r}.")
        if api_client_revoke(client=client):
            self.stdout.write(f"Revoked {client.name!r}.")
        else:
            self.stdout.write(f"{client.name!r} was already revoked.")
