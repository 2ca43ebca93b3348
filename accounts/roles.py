"""Roles are Django groups with fixed names; a user may hold several.

What each role may reach — pages, API operations, actions on an order, which orders — is
written in one table, `accounts.matrix`; row-level access (who sees which order) is then
decided in the selectors from it and from handling-unit membership, never in templates.
"""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    CREW = "crew", _("Crew member")
    DEPARTMENT = "department", _("Department handler")
    SUPERVISOR = "supervisor", _("Supervisor")
    # 中心管理: watches the whole centre (the wallboard, breaches, reports, the audit trail)
    # and reads every order, but neither takes calls nor works orders.
    MANAGER = "manager", _("Centre manager")
    ADMIN = "admin", _("Administrator")


def roles_of(user) -> frozenset[str]:
    """The role codes of a user, read once per request and cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_role_codes", None)
    if cached is None:
        cached = frozenset(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        if user.is_superuser:
            cached = cached | {Role.ADMIN.value}
        user._role_codes = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def home_url_for(user) -> str:
    """Where a role works: agents at call intake, crews and departments at their orders,
    supervisors and centre managers at the wallboard, administrators in the admin."""
    roles = roles_of(user)
    if Role.AGENT in roles:
        return reverse("tickets:intake")
    if roles & {Role.SUPERVISOR, Role.MANAGER}:
        return reverse("dashboard:wallboard")
    if roles & {Role.CREW, Role.DEPARTMENT}:
        return reverse("tickets:unit_orders")
    if Role.ADMIN in roles or getattr(user, "is_staff", False):
        return reverse("admin:index")
    return reverse("accounts:no_role")
