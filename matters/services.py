"""Writes of important service matters: file one, change one.

Both validate before saving and raise `DomainError` with one message per field (the pages
put them on the form): a subject and a script, the end after the start, at least one
service area. A filing is in force from `valid_from` (included) to `valid_to` (excluded).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import ServiceArea
from matters.models import ImportantMatter
from servicedesk.actors import Actor
from servicedesk.errors import DomainError


@dataclass(frozen=True)
class MatterDraft:
    """A filing as typed on the form, before it is saved. Times are aware (UTC stored)."""

    title: str
    script: str
    valid_from: datetime | None
    valid_to: datetime | None
    service_areas: Sequence[ServiceArea] = ()
    background: str = ""


def _validate(draft: MatterDraft) -> None:
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if not draft.title.strip():
        add("title", _("Enter the subject."))
    if not draft.script.strip():
        add("script", _("Enter the script the agents read."))
    if draft.valid_from is None:
        add("valid_from", _("Enter when it comes into force."))
    if draft.valid_to is None:
        add("valid_to", _("Enter when it ends."))
    elif draft.valid_from is not None and draft.valid_to <= draft.valid_from:
        add("valid_to", _("The end must come after the start."))
    if not list(draft.service_areas):
        add("service_areas", _("Choose at least one service area."))
    if errors:
        raise DomainError(_("Please correct the marked fields."), field_errors=errors)


def _write(matter: ImportantMatter, draft: MatterDraft) -> None:
    matter.title = draft.title.strip()
    matter.script = draft.script.strip()
    matter.background = draft.background.strip()
    matter.valid_from = draft.valid_from
    matter.valid_to = draft.valid_to


def matter_file(
    *, draft: MatterDraft, actor: Actor, now: datetime | None = None
) -> ImportantMatter:
    """File a matter (报备): in force from its start, on the cards of its areas' callers."""
    _validate(draft)
    now = now or timezone.now()
    with transaction.atomic():
        matter = ImportantMatter(filed_by_id=actor.user_id, filed_at=now)
        _write(matter, draft)
        matter.save()
        matter.service_areas.set(draft.service_areas)
    return matter


def matter_update(
    *, matter: ImportantMatter, draft: MatterDraft, actor: Actor, now: datetime | None = None
) -> ImportantMatter:
    """Change a filing (to end it early, move its end to now); who and when are kept."""
    _validate(draft)
    now = now or timezone.now()
    with transaction.atomic():
        matter = ImportantMatter.objects.select_for_update().get(pk=matter.pk)
        _write(matter, draft)
        matter.updated_by_id = actor.user_id
        matter.updated_at = now
        matter.save()
        matter.service_areas.set(draft.service_areas)
    return matter
