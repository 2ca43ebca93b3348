"""Who may do what on the outage register.

- Everyone who takes or handles calls reads it: agents tell callers about outages, crews
  work them.
- The dispatch desk registers, edits, dispatches and ends outages. The desk sits with the
  repair crews and supply stations (role "crew"); supervisors and administrators stand in.
- Only a supervisor (or an administrator) lets a planned outage through with a notice
  outside 3–7 days, and records the report to the power authority.
"""

from __future__ import annotations

from accounts.roles import Role, has_role

READ_ROLES = (Role.AGENT, Role.CREW, Role.DEPARTMENT, Role.SUPERVISOR, Role.ADMIN)
DESK_ROLES = (Role.CREW, Role.SUPERVISOR, Role.ADMIN)
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def outage_may_read(user) -> bool:
    return has_role(user, *READ_ROLES)


def outage_may_edit(user) -> bool:
    return has_role(user, *DESK_ROLES)


def outage_may_override_notice(user) -> bool:
    return has_role(user, *SUPERVISOR_ROLES)


def outage_may_report_to_authority(user) -> bool:
    return has_role(user, *SUPERVISOR_ROLES)
