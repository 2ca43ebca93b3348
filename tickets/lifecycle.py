"""The work-order life cycle as a table: which action moves which category from where to where.

accepted → dispatched → acknowledged → on_site (repair only) → handed_back → resolved →
visited → archived, plus cancelled, merged and terminated. Read it as: "action A on an order
of category C in state S goes to state T". Anything not listed is refused (NotAllowed) and
changes nothing.

The centre's check (回单审核). What a unit sends back — a repair resolved on site, an
application done, the reply to a complaint or a tip-off — is handed back (回单,
`handed_back`), not resolved: the agent who owns the order (首问负责) or a supervisor then
accepts it (`accept_check` → resolved) or sends it back to the unit (退单, `return_check`,
with a reason, counted against the unit). `resolve` and `reply` stay the unit's result step
and, for those orders, they *are* the hand-back: `handback` is the same move under the name
the API and the crew pages use (same states, same service). Orders the agent closes itself
skip the check: an inquiry answered on the call or by callback, a fault inside the
customer's installation guided by phone, and orders resolved with their outage.

A claim outside the utility's scope ends in `terminated` (服务终止) with a reason, never a
fake resolution. `redispatch` (转派) hands an order to another unit without restarting the
dispatch clock; `contact` records the "customer contacted" milestone and leaves the state.
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
    REDISPATCH = "redispatch", _("Re-dispatch")
    CONTACT = "contact", _("Customer contacted")
    HANDBACK = "handback", _("Hand back")
    ACCEPT_CHECK = "accept_check", _("Accept the result")
    RETURN_CHECK = "return_check", _("Return to the unit")
    TERMINATE = "terminate", _("Terminate the service")


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
# The department's reply to these is checked by the centre; an inquiry's is not.
CHECKED_REPLY = {Category.COMPLAINT.value, Category.REPORT.value}
OPEN = {S.ACCEPTED, S.DISPATCHED, S.ACKNOWLEDGED, S.ON_SITE}
WITH_UNIT = {S.DISPATCHED, S.ACKNOWLEDGED, S.ON_SITE}

MOVES: tuple[Move, ...] = (
    # Send the order to its handling unit. Also used after a dissatisfied return visit.
    _move(Action.DISPATCH, ALL, {S.ACCEPTED}, S.DISPATCHED),
    _move(Action.ACKNOWLEDGE, ALL, {S.DISPATCHED}, S.ACKNOWLEDGED),
    # 转派: to another unit, which acknowledges it afresh; the clocks run on.
    _move(Action.REDISPATCH, ALL, {S.DISPATCHED, S.ACKNOWLEDGED}, S.DISPATCHED),
    # A milestone, not a move: the state stays.
    *(_move(Action.CONTACT, ALL, {source}, source) for source in sorted(WITH_UNIT)),
    # Only a crew goes on site; it may record arrival without having pressed "acknowledge".
    _move(Action.ARRIVE, REPAIR, {S.DISPATCHED, S.ACKNOWLEDGED}, S.ON_SITE),
    # A fault inside the customer's own installation is resolved at once (guided by phone,
    # no crew); an inquiry is resolved on the call. A crew's result is handed back.
    _move(Action.RESOLVE, REPAIR, {S.ACCEPTED}, S.RESOLVED),
    _move(Action.RESOLVE, REPAIR, {S.ON_SITE}, S.HANDED_BACK),
    _move(Action.RESOLVE, INQUIRY, {S.ACCEPTED}, S.RESOLVED),
    _move(Action.RESOLVE, APPLICATION, {S.ACKNOWLEDGED}, S.HANDED_BACK),
    # Complaints and reports end with the department's written reply, handed back for the
    # check; a callback inquiry's reply resolves it.
    _move(Action.REPLY, CHECKED_REPLY, {S.DISPATCHED, S.ACKNOWLEDGED}, S.HANDED_BACK),
    _move(Action.REPLY, INQUIRY, {S.DISPATCHED, S.ACKNOWLEDGED}, S.RESOLVED),
    # 回单: the same moves as the results above that go to the check.
    _move(Action.HANDBACK, REPAIR, {S.ON_SITE}, S.HANDED_BACK),
    _move(Action.HANDBACK, APPLICATION, {S.ACKNOWLEDGED}, S.HANDED_BACK),
    _move(Action.HANDBACK, CHECKED_REPLY, {S.DISPATCHED, S.ACKNOWLEDGED}, S.HANDED_BACK),
    # 回单审核. A return goes back to where the unit handed it from: a crew is still on site
    # (it corrects its result), a department has its order acknowledged (or only dispatched,
    # if it replied without acknowledging: tickets.services.ticket_check_return).
    _move(Action.ACCEPT_CHECK, ALL, {S.HANDED_BACK}, S.RESOLVED),
    _move(Action.RETURN_CHECK, REPAIR, {S.HANDED_BACK}, S.ON_SITE),
    _move(Action.RETURN_CHECK, ALL - REPAIR, {S.HANDED_BACK}, S.ACKNOWLEDGED),
    _move(Action.VISIT, ALL, {S.RESOLVED}, S.VISITED),
    _move(Action.ARCHIVE, ALL, {S.VISITED}, S.ARCHIVED),
    # An inquiry answered on the call needs no return visit.
    _move(Action.ARCHIVE, INQUIRY, {S.RESOLVED}, S.ARCHIVED),
    _move(Action.CANCEL, ALL, OPEN, S.CANCELLED),
    _move(Action.MERGE, ALL, {S.ACCEPTED, S.DISPATCHED, S.ACKNOWLEDGED}, S.MERGED),
    # 服务终止: found outside the utility's scope, before or after the unit looked at it.
    _move(Action.TERMINATE, ALL, {*OPEN, S.HANDED_BACK}, S.TERMINATED),
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
