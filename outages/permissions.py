"""Who may do what on the outage register.

- Everyone who takes or handles calls reads it: agents tell callers about outages, crews
  work them.
- The dispatch desk registers, edits, dispatches and ends outages. The desk sits with the
  repair crews and supply stations (role "crew"); supervisors and administrators stand in.
- Only a supervisor (or an administrator) lets a planned outage through with a notice
  outside 3–7 days, and records the report to the power authority.
- The centre manager reads it.

The roles are written in the permission matrix (`accounts.matrix`), which the pages ask.
"""

from __future__ import annotations

from accounts.matrix import OUTAGE_DESK, OUTAGE_READERS, OUTAGE_SUPERVISORS
from accounts.roles import roles_of


def outage_may_read(user) -> bool:
    return bool(roles_of(user) & OUTAGE_READERS)


def outage_may_edit(user) -> bool:
    return bool(roles_of(user) & OUTAGE_DESK)


def outage_may_override_notice(user) -> bool:
    return bool(roles_of(user) & OUTAGE_SUPERVISORS)


def outage_may_report_to_authority(user) -> bool:
    return bool(roles_of(user) & OUTAGE_SUPERVISORS)
