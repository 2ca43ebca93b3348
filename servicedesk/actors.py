"""Who did it: the person, client or system process behind a write.

Every service takes an `Actor`; the timeline, notifications and audit read who acted from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    """A signed-in user, or an integration client / the system by name."""

    user: AbstractBaseUser | None = None
    label: str = ""

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None


SYSTEM = Actor(label="system")
# The SLA engine's own writes (breach follow-up, scanner) are signed by this label.
SLA = Actor(label="sla")
