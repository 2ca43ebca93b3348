"""`python manage.py create_api_client NAME --scopes tickets:create tickets:read …`

Registers an integration client and prints its token on standard output — alone on its
line, so provisioning scripts can capture it: TOKEN=$(python manage.py create_api_client …).
Only the token's hash is stored; the token cannot be shown again. `--rotate` issues a new
token for an existing client (the old one stops working at once).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from api.models import ApiClient, Scope
from api.services import (
    api_client_create,
    api_client_rotate_token,
    api_client_set_scopes,
)
from servicedesk.errors import DomainError


class Command(BaseCommand):
    help = "Register an integration client of the REST API and print its new token."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "name", help="The client's name, shown as the actor on the timeline (e.g. IVR)."
        )
        parser.add_argument(
            "--scopes",
            nargs="+",
            default=[],
            metavar="SCOPE",
            help=f"Scopes, space- or comma-separated, or 'all'. Known: {', '.join(Scope.values)}.",
        )
        parser.add_argument("--note", default="", help="What the client is, who runs it.")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="The client exists: issue a new token (and set --scopes, if given).",
        )

    def handle(
        self, *args, name: str, scopes: list[str], note: str, rotate: bool, **options
    ) -> None:
        wanted = [part.strip() for item in scopes for part in item.split(",") if part.strip()]
        if wanted == ["all"]:
            wanted = list(Scope.values)
        try:
            if rotate:
                client = ApiClient.objects.filter(name=name).first()
                if client is None:
                    raise CommandError(f"No client named {name!r}.")
                if wanted:
                    api_client_set_scopes(client=client, scopes=wanted)
                token = api_client_rotate_token(client=client)
            else:
                if not wanted:
                    raise CommandError(
                        f"Give at least one scope with --scopes ({', '.join(Scope.values)}, or all)."
                    )
                client, token = api_client_create(name=name, scopes=wanted, note=note)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Client {client.name!r} with scopes {', '.join(client.scopes)}. "
            "Its token (shown only now):"
        )
        self.stdout.write(token)
