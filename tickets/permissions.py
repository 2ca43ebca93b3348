"""Who may take which action on an order: the life-cycle table intersected with the role.

One rule for every interface, so the order page and the REST API offer and accept the same
actions:

- agents (客户代表) own what they took: cancel it, do the return visit, archive it, write the
  reply of a callback inquiry, and log a repeat call as a hastening;
- crews and department handlers act on their own unit's orders: acknowledge, arrive on
  site, resolve, reply;
- supervisors may do everything the state allows.

``hasten`` is not a life-cycle move (the state does not change) but is offered the same way,
on open orders only.
"""

from __future__ import annotations

from accounts.roles import Role, roles_of
from tickets.lifecycle import Action, allowed_actions
from tickets.models import ReplyForm, Ticket

HASTEN = "hasten"

AGENT_ACTIONS = frozenset({Action.CANCEL, Action.VISIT, Action.ARCHIVE, Action.REPLY, HASTEN})
UNIT_ACTIONS = frozenset({Action.ACKNOWLEDGE, Action.ARRIVE, Action.RESOLVE, Action.REPLY})
# Actions the order page has a form for, in the order they are shown.
ACTION_ORDER = (*Action.values, HASTEN)


def unit_ids_of(user) -> frozenset[int]:
    """The handling units the user belongs to, read once per request and cached on the user."""
    cached = getattr(user, "_unit_ids", None)
    if cached is None:
        if not getattr(user, "is_authenticated", False):
            cached = frozenset()
        else:
            cached = frozenset(user.handling_units.values_list("pk", flat=True))
        user._unit_ids = cached
    return cached


def ticket_actions_for(*, user, ticket: Ticket) -> list[str]:
    """The actions this user may take on this order now, in life-cycle order.

    Reads the user's roles (cached) and, for crews and departments, their units (cached):
    at most two queries per request, whatever the number of orders asked about.
    """
    roles = roles_of(user)
    possible = set(allowed_actions(category=ticket.category, status=ticket.status))
    if ticket.is_open:
        possible.add(HASTEN)
    permitted: set[str] = set()
    if roles & {Role.SUPERVISOR, Role.ADMIN}:
        permitted |= possible
    if Role.AGENT in roles:
        agent = set(AGENT_ACTIONS)
        # An agent writes the reply only of an inquiry that promised a callback; complaints
        # and reports are answered by the department concerned.
        if ticket.reply_form not in (ReplyForm.CALLBACK, ReplyForm.SMS):
            agent.discard(Action.REPLY)
        permitted |= possible & agent
    if roles & {Role.CREW, Role.DEPARTMENT} and ticket.handling_unit_id in unit_ids_of(user):
        permitted |= possible & UNIT_ACTIONS
    return [action for action in ACTION_ORDER if action in permitted]


def ticket_action_allowed(*, user, ticket: Ticket, action: str) -> bool:
    return action in ticket_actions_for(user=user, ticket=ticket)
