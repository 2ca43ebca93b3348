"""Who may take which action on an order: the life-cycle table intersected with the role.

One rule for every interface, so the order page and the REST API offer and accept the same
actions. Who may take what, and on which of the orders they see, is written in the
permission matrix (`accounts.matrix.ACTIONS`):

- agents (客户代表) own what they took: cancel it, do the return visit, archive it, write the
  reply of a callback inquiry, and log a repeat call as a hastening;
- agents check what the unit hands back (accept or return, 回单审核) and terminate the
  service (服务终止) on the orders they took (首问负责制);
- crews and department handlers act on their own unit's orders: acknowledge, record
  contact with the customer, arrive on site, resolve, reply, hand back, re-dispatch (转派);
- supervisors may do everything the state allows; centre managers watch and take none.

``hasten`` is not a life-cycle move (the state does not change) but is offered the same way,
on open orders only.
"""

from __future__ import annotations

from accounts.matrix import EVERY_ACTION, HASTEN, When, action_rights
from accounts.roles import roles_of
from tickets.lifecycle import allowed_actions
from tickets.models import ReplyForm, Ticket

# Actions the order page has a form for, in the order they are shown.
ACTION_ORDER = EVERY_ACTION


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


def _possible(ticket: Ticket) -> set[str]:
    possible = set(allowed_actions(category=ticket.category, status=ticket.status))
    if ticket.is_open:
        possible.add(HASTEN)
    return possible


def _holds(when: When, *, user, ticket: Ticket) -> bool:
    if when is When.OWN_UNIT:
        return ticket.handling_unit_id in unit_ids_of(user)
    if when is When.OWNER:
        return ticket.owner_id is not None and ticket.owner_id == getattr(user, "pk", None)
    if when is When.CALLBACK:
        return ticket.reply_form in (ReplyForm.CALLBACK, ReplyForm.SMS)
    return True


def ticket_action_possible(*, ticket: Ticket, action: str) -> bool:
    """The order's state allows the action at all, whoever asks (otherwise: 409)."""
    return action in _possible(ticket)


def ticket_actions_for(*, user, ticket: Ticket) -> list[str]:
    """The actions this user may take on this order now, in life-cycle order.

    Reads the user's roles (cached) and, for crews and departments, their units (cached):
    at most two queries per request, whatever the number of orders asked about.
    """
    rights = action_rights(roles_of(user))
    permitted = {
        action
        for action in _possible(ticket)
        if any(_holds(when, user=user, ticket=ticket) for when in rights.get(action, ()))
    }
    return [action for action in ACTION_ORDER if action in permitted]


def ticket_action_allowed(*, user, ticket: Ticket, action: str) -> bool:
    return action in ticket_actions_for(user=user, ticket=ticket)
