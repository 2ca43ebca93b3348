"""Return visits (回访): the agents' calls to customers after an order is resolved.

The visit window is an SLA timer (`sla.Timer` named `visit`, started by `resolved`, stopped
by `visited`); the queue reads it. What is written here is what the agent does on the
return-visit page: each call that did not reach the customer (`VisitAttempt`), and the
visit itself (`Visit`) with its verdict, or closed as unreachable after the last attempt.
An order resolved with an outage is visited once, through the outage; a child order
through its master. The report counts dissatisfied and unreachable visits per handling
unit from these rows.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import Satisfaction


class VisitReason(models.Model):
    """Why a customer is dissatisfied (态度, 修复质量, 到达时间, 未修复, 其他).

    Seeded by a migration; administrators add, rename or retire reasons in the admin. An
    inactive reason stays on old visits but is no longer offered.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("dissatisfaction reason")
        verbose_name_plural = _("dissatisfaction reasons")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class VisitPolicy(models.Model):
    """How often an unreachable customer is tried again: one row, edited in the admin.

    Defaults: 3 attempts, 2 hours apart. After the last attempt the visit is closed as
    unreachable.
    """

    max_attempts = models.PositiveSmallIntegerField(
        _("attempts before closing as unreachable"),
        default=3,
        validators=[MinValueValidator(1)],
    )
    retry_minutes = models.PositiveIntegerField(
        _("minutes between attempts"), default=120, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("return-visit policy")
        verbose_name_plural = _("return-visit policy")

    def __str__(self) -> str:
        return f"{self.max_attempts} × {self.retry_minutes} min"

    @classmethod
    def current(cls) -> VisitPolicy:
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()


class VisitStatus(models.TextChoices):
    OPEN = "open", _("In progress")
    DONE = "done", _("Done")
    UNREACHABLE = "unreachable", _("Could not reach the customer")


class Visit(models.Model):
    """One return visit of one order, or of one outage (for every order resolved with it).

    Created by `visits.services` at the first attempt or at the verdict. `handling_unit` is
    the unit the visit counts against (the order's unit when it was visited), so the
    report counts from this table alone. A dissatisfied verdict reopens the order; once
    resolved again it gets a new visit.
    """

    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="visits",
    )
    outage = models.ForeignKey(
        "outages.Outage",
        verbose_name=_("outage"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="visits",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=VisitStatus.choices, default=VisitStatus.OPEN
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    reason = models.ForeignKey(
        VisitReason,
        verbose_name=_("dissatisfaction reason"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    handling_unit = models.ForeignKey(
        "customers.HandlingUnit",
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    attempts = models.PositiveSmallIntegerField(_("attempts that did not reach"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt from"), null=True, blank=True)
    # The orders this visit answered for: 1, the master's children too, or the outage's orders.
    orders_covered = models.PositiveIntegerField(_("orders covered"), default=1)
    created_at = models.DateTimeField(_("started at"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ticket__isnull=False, outage__isnull=True)
                | Q(ticket__isnull=True, outage__isnull=False),
                name="visit_of_order_or_outage",
            ),
            # One visit in progress per order and per outage: two agents' attempts add up.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status="open", ticket__isnull=False),
                name="visit_one_open_per_order",
            ),
            # An outage is visited once, ever.
            models.UniqueConstraint(
                fields=["outage"], condition=Q(outage__isnull=False), name="visit_one_per_outage"
            ),
        ]
        indexes = [
            # The report: closed visits per unit in a period.
            models.Index(fields=["closed_at", "handling_unit"], name="visit_closed_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id or self.outage_id} {self.status}"


class VisitAttempt(models.Model):
    """One call that did not reach the customer: written each time the agent presses
    "could not reach" on the return-visit page."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField(_("attempt"))
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("unreached attempt")
        verbose_name_plural = _("unreached attempts")
        ordering = ["visit", "number"]
        constraints = [
            models.UniqueConstraint(fields=["visit", "number"], name="visit_attempt_number_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.visit_id} #{self.number}"
