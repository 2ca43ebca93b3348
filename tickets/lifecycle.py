"""The work-order life cycle as a table: which action moves which category from where to where.

accepted → dispatched → acknowledged → on_site (repair only) → resolved → visited → archived,
plus cancelled and merged. Read it as: "action A on an order of category C in state S
goes to state T". Anything not listed is refused (NotAllowed) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import Category, Status

ALL = frozenset(Category.values)
S = Status


class Action(models.TextChoices):
    DISPATCH = "dispatch", _("Dispatch")
    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    ARRIVE = "arrive", _("Arrive on site")
    RESOLVE = "resolve", _("Resolve")
    REPLY = "reply", _("Reply")
    VISIT = "visit", _("Return visit")
    ARCHIVE = "archive", _("Archive")
    CANCEL = "cancel", _("Cancel")
    MERGE = "merge", _("Merge")


@dataclass(frozen=True)
class Move:
    action: str
    categories: frozenset[str]
    sources: frozenset[str]
    target: str


def _move(
    action: Action, categories: set[str] | frozenset[str], sources: set[str], target: Status
) -> Move:
    return Move(action.value, frozenset(categories), frozenset(sources), target.value)


REPAIR = {Category.REPAIR.value}
INQUIRY = {Category.INQUIRY.value}
APPLICATION = {Category.APPLICATION.value}
WRITTEN_REPLY = {Category.COMPLAINT.value, Category.REPORT.value, Category.INQUIRY.value}
OPEN = {S.ACCEPTED, S.DISPATCHED, S.ACKNOWLEDGED, S.ON_SITE}

MOVES: tuple[Move, ...] = (
    # Send the order to its handling unit. Also used after a dissatisfied return visit.
    _move(Action.DISPATCH, ALL, {S.ACCEPTED}, S.DISPATCHED),
    _move(Action.ACKNOWLEDGE, ALL, {S.DISPATCHED}, S.ACKNOWLEDGED),
    # Only a crew goes on site; it may record arrival without having pressed "acknowledge".
    _move(Action.ARRIVE, REPAIR, {S.DISPATCHED, S.ACKNOWLEDGED}, S.ON_SITE),
    # A repair is resolved on site, or at once when the fault is inside the customer's own
    # installation (guided by phone, no crew). An inquiry is resolved on the call.
    _move(Action.RESOLVE, REPAIR, {S.ACCEPTED, S.ON_SITE}, S.RESOLVED),
    _move(Action.RESOLVE, INQUIRY, {S.ACCEPTED}, S.RESOLVED),
    _move(Action.RESOLVE, APPLICATION, {S.ACKNOWLEDGED}, S.RESOLVED),
    # Complaints, reports and callback inquiries end with a written reply.
    _move(Action.REPLY, WRITTEN_REPLY, {S.DISPATCHED, S.ACKNOWLEDGED}, S.RESOLVED),
    _move(Action.VISIT, ALL, {S.RESOLVED}, S.VISITED),
    _move(Action.ARCHIVE, ALL, {S.VISITED}, S.ARCHIVED),
    # An inquiry answered on the call needs no return visit.
    _move(Action.ARCHIVE, INQUIRY, {S.RESOLVED}, S.ARCHIVED),
    _move(Action.CANCEL, ALL, OPEN, S.CANCELLED),
    _move(Action.MERGE, ALL, {S.ACCEPTED, S.DISPATCHED, S.ACKNOWLEDGED}, S.MERGED),
)

# Not an action anyone takes on one order: when an outage ends, every order linked to it
# moves from merged to resolved at once (tickets.services.tickets_resolve_for_outage).
OUTAGE_ENDED_SOURCES = frozenset({S.MERGED.value})
OUTAGE_ENDED_TARGET = S.RESOLVED.value

_INDEX: dict[tuple[str, str, str], str] = {
    (move.action, category, source): move.target
    for move in MOVES
    for category in move.categories
    for source in move.sources
}


def target_of(*, action: str, category: str, status: str) -> str | None:
    """The state the action leads to, or None when the table does not allow it."""
    return _INDEX.get((action, category, status))


def allowed_actions(*, category: str, status: str) -> list[str]:
    """The actions a user may take on an order in this state, in life-cycle order."""
    return [a for a in Action.values if (a, category, status) in _INDEX]
