"""Reads of important service matters: the ones in force for a caller, and the list page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.http import Http404

from matters.models import ImportantMatter

# The list shows filings that ended within this many days (older ones are in the admin).
ENDED_SHOWN_FOR = timedelta(days=90)
LIST_LIMIT = 200


def matters_in_force_for_area(
    *, service_area_id: int | None, now: datetime
) -> list[ImportantMatter]:
    """The filings in force now (from ≤ now < to) for this service area, the latest
    started first: one query on the (valid_to, valid_from) index and the area table."""
    if service_area_id is None:
        return []
    return list(
        ImportantMatter.objects.filter(
            valid_to__gt=now, valid_from__lte=now, service_areas__id=service_area_id
        ).order_by("-valid_from", "-pk")
    )


@dataclass
class MatterList:
    in_force: list[ImportantMatter] = field(default_factory=list)
    upcoming: list[ImportantMatter] = field(default_factory=list)
    ended: list[ImportantMatter] = field(default_factory=list)


def matter_list(*, now: datetime, limit: int = LIST_LIMIT) -> MatterList:
    """In force, then upcoming, then ended in the last 90 days, with their areas and who
    filed them: two queries whatever the number of filings."""
    rows = list(
        ImportantMatter.objects.filter(valid_to__gt=now - ENDED_SHOWN_FOR)
        .select_related("filed_by", "updated_by")
        .prefetch_related(Prefetch("service_areas", to_attr="area_list"))
        .order_by("valid_from", "pk")[:limit]
    )
    return MatterList(
        in_force=[m for m in rows if m.valid_from <= now < m.valid_to],
        upcoming=[m for m in rows if m.valid_from > now],
        ended=sorted(
            (m for m in rows if m.valid_to <= now), key=lambda m: m.valid_to, reverse=True
        ),
    )


def matter_get(*, pk: int) -> ImportantMatter:
    matter = ImportantMatter.objects.filter(pk=pk).first()
    if matter is None:
        raise Http404(pk)
    return matter
