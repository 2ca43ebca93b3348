"""Power outages known to the centre (faults, planned work, temporary cuts, suspensions).

Entered by the dispatch desk (or a supervisor) on the outage register pages, or imported
from the distribution system. While an outage is active or announced, agents see it on the
caller's card, read out the expected restoration time, and link the caller's repair to it
instead of sending another crew: the outage itself is dispatched to the area's crew once
(`OutageDispatch`). Its reporting limits run as `OutageTimer` rows, from `OutageTimerRule`.
All times are stored in UTC.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from outages.lookups import HasItem


class Outage(models.Model):
    class Kind(models.TextChoices):
        FAULT = "fault", _("Fault outage")
        PLANNED = "planned", _("Planned outage")
        TEMPORARY = "temporary", _("Temporary outage")
        SUSPENSION = "suspension", _("Supply suspension")

    number = models.CharField(_("number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    cause = models.CharField(_("cause"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    # A fault outage must be entered within minutes of its confirmation (OutageTimer "entry").
    confirmed_at = models.DateTimeField(_("fault confirmed at"), null=True, blank=True)
    expected_restoration_at = models.DateTimeField(_("expected restoration"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True, db_index=True)
    notice_at = models.DateTimeField(
        _("announced at"),
        null=True,
        blank=True,
        help_text=_("Planned outages must be announced 3 to 7 days before they start."),
    )
    # A supervisor may let a planned outage through with a notice outside 3–7 days; who,
    # when and why stay on the record.
    notice_override_reason = models.TextField(
        _("reason for overriding the notice period"), blank=True
    )
    notice_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("notice period overridden by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    notice_override_at = models.DateTimeField(
        _("notice period overridden at"), null=True, blank=True
    )
    # Set by the services from the customers covered: an important customer among them
    # means the outage must be reported to the power authority.
    affects_important_customers = models.BooleanField(
        _("affects important customers"), default=False
    )
    customers_covered = models.PositiveIntegerField(_("customers covered"), default=0)
    reported_to_authority = models.BooleanField(_("reported to the power authority"), default=False)
    reported_to_authority_at = models.DateTimeField(
        _("reported to the power authority at"), null=True, blank=True
    )
    reported_to_authority_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported to the power authority by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    authority_report_note = models.CharField(_("authority report note"), max_length=200, blank=True)
    service_areas = models.ManyToManyField(
        "customers.ServiceArea", verbose_name=_("service areas"), blank=True, related_name="outages"
    )
    feeders = models.JSONField(_("feeders"), default=list, blank=True)
    transformer_areas = models.JSONField(_("transformer areas"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Ending the outage: `restored_at` is when power came back; this is when that was recorded.
    restoration_recorded_at = models.DateTimeField(
        _("restoration recorded at"), null=True, blank=True
    )
    restoration_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("restoration recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # One return visit per outage, not per call: its due time, set when the outage ends.
    visit_due_at = models.DateTimeField(_("return visit due at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-starts_at"]
        indexes = [
            # Frequent outages: the outages started in the rolling window (selectors
            # `outage_count_for_customer`, `outage_ranking`) are found on this index.
            models.Index(fields=["starts_at"], name="outage_starts_at_idx"),
            # The wallboard's "report to the power authority overdue": rare rows.
            models.Index(
                fields=["starts_at"],
                condition=Q(affects_important_customers=True, reported_to_authority=False),
                name="outage_authority_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def covers(
        self, *, service_area_id: int | None, feeder: str, transformer_area: str, area_ids: set[int]
    ) -> bool:
        """True when the outage reaches a customer with these attributes.

        `area_ids` is the set of the outage's service-area ids (prefetched by the caller).
        """
        if transformer_area and transformer_area in self.transformer_areas:
            return True
        if feeder and feeder in self.feeders:
            return True
        return service_area_id is not None and service_area_id in area_ids

    @property
    def is_over(self) -> bool:
        return self.restored_at is not None

    @property
    def authority_report_due(self) -> bool:
        """Covers an important customer and the report is not recorded yet."""
        return self.affects_important_customers and not self.reported_to_authority


class OutageEvent(models.Model):
    """One line of an outage's own history: registered, edited, restoration updated, notice
    period overridden, dispatched, reported to the authority, ended. Appended by
    `outages.services`; never updated or deleted."""

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Registered")
        UPDATED = "updated", _("Updated")
        RESTORATION = "restoration", _("Expected restoration updated")
        NOTICE_OVERRIDE = "notice_override", _("Notice period overridden")
        DISPATCHED = "dispatched", _("Dispatched")
        AUTHORITY = "authority", _("Reported to the power authority")
        ENDED = "ended", _("Power restored")

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("by (system or client)"), max_length=60, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        verbose_name = _("outage event")
        verbose_name_plural = _("outage events")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class OutageDispatch(models.Model):
    """The outage's own crew dispatch: one per outage, whatever the number of calls.

    Written by `outages.services.outage_dispatch` when the outage is registered (to the crew
    chosen or the first affected area's crew) or later from the outage page. The orders
    linked to the outage are merged into it and never dispatched themselves; the one-to-one
    key is what keeps it to one even when two people press the button at once.
    """

    outage = models.OneToOneField(Outage, on_delete=models.CASCADE, related_name="dispatch")
    unit = models.ForeignKey(
        "customers.HandlingUnit",
        verbose_name=_("crew"),
        on_delete=models.PROTECT,
        related_name="outage_dispatches",
    )
    at = models.DateTimeField(_("dispatched at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(_("by (system or client)"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("outage dispatch")
        verbose_name_plural = _("outage dispatches")

    def __str__(self) -> str:
        return f"{self.outage_id} → {self.unit_id}"


class OutageTimerName(models.TextChoices):
    """The outage reporting limits (SPEC section 4)."""

    ENTRY = "entry", _("Outage entered after confirmation")
    RESTORATION_UPDATE = "restoration_update", _("Expected restoration updated when it slips")
    RESTORATION_RECORD = "restoration_record", _("Restoration recorded after power is back")


class OutageTimerRule(models.Model):
    """One outage reporting limit, in minutes: which timer, for which kind of outage.

    Edited by an administrator (the defaults, 5/5/5 minutes for fault outages, are seeded by
    a migration). Blank kind means every kind; a rule for the outage's kind wins. A timer
    keeps the limit it started with: a change applies to clocks that start afterwards.
    """

    name = models.CharField(_("timer"), max_length=20, choices=OutageTimerName.choices)
    kind = models.CharField(
        _("outage kind"),
        max_length=20,
        choices=Outage.Kind.choices,
        blank=True,
        help_text=_("Blank: every kind."),
    )
    minutes = models.PositiveIntegerField(_("limit (minutes)"))
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("source or note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("outage reporting limit")
        verbose_name_plural = _("outage reporting limits")
        ordering = ["name", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["name", "kind"], name="outage_timer_rule_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_name_display()} {self.minutes}"


class OutageTimer(models.Model):
    """One reporting clock of one outage: started_at → due_at (stored and indexed).

    Written by `outages.services`: the entry clock runs from the fault's confirmation to its
    registration; the update clock from the expected restoration (in the future when it is
    set) to the next update of it; the record clock from power back to the recording of it.
    The scanner (`outages.services.outage_timers_scan`, Celery beat) claims each breach once
    with a conditional UPDATE; a clock stopped after its due time gets its breach on the spot.
    """

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="timers")
    name = models.CharField(_("timer"), max_length=20, choices=OutageTimerName.choices)
    rule = models.ForeignKey(
        OutageTimerRule, verbose_name=_("rule"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    breached_at = models.DateTimeField(
        _("breached at"),
        null=True,
        blank=True,
        help_text=_("The due time that passed, once recorded."),
    )
    breach_recorded_at = models.DateTimeField(_("breach recorded at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    class Meta:
        verbose_name = _("outage timer")
        verbose_name_plural = _("outage timers")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["outage", "name"],
                condition=Q(stopped_at__isnull=True),
                name="outage_timer_one_running_per_name",
            ),
        ]
        indexes = [
            # The scanner: "due before now and not yet breached", running rows only.
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, breached_at__isnull=True),
                name="outage_timer_due_idx",
            ),
            # The escalation pass and the wallboard: breached and still running.
            models.Index(
                fields=["breached_at"],
                condition=Q(stopped_at__isnull=True, breached_at__isnull=False),
                name="outage_timer_escalation_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.name} → {self.due_at:%Y-%m-%d %H:%M}"


class FrequentOutageLevel(models.Model):
    """The frequent-outage levels (频繁停电): how many outages in a rolling window make a
    customer, a feeder or a transformer area "warning" and then "frequent".

    Edited by an administrator in the admin; seeded by migration `0005_frequent_outage_levels`
    with 60 days, warning at 3 and frequent at 4 (the figures of the issue, "3 and 4 in two
    months"; the regulation excerpts we hold give none). At most one row is active: it is
    the one the caller's card and the report read. No active row switches the badge off.
    """

    window_days = models.PositiveSmallIntegerField(
        _("window (days)"), default=60, help_text=_("Outages started in the last N days count.")
    )
    warning_count = models.PositiveSmallIntegerField(_("warning from (outages)"), default=3)
    frequent_count = models.PositiveSmallIntegerField(_("frequent from (outages)"), default=4)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("source or note"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("frequent-outage levels")
        verbose_name_plural = _("frequent-outage levels")
        ordering = ["-is_active", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="frequent_outage_level_one_active",
                violation_error_message=_("Only one set of levels can be active at a time."),
            ),
            models.CheckConstraint(
                condition=Q(window_days__gte=1)
                & Q(warning_count__gte=1)
                & Q(frequent_count__gte=models.F("warning_count")),
                name="frequent_outage_level_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.window_days}d {self.warning_count}/{self.frequent_count}"

    def clean(self) -> None:
        errors = {}
        if self.window_days is not None and self.window_days < 1:
            errors["window_days"] = _("The window is at least one day.")
        if self.warning_count is not None and self.warning_count < 1:
            errors["warning_count"] = _("The warning level is at least one outage.")
        if (
            self.warning_count is not None
            and self.frequent_count is not None
            and self.frequent_count < self.warning_count
        ):
            errors["frequent_count"] = _("The frequent level cannot be below the warning level.")
        if errors:
            raise ValidationError(errors)

    def level_of(self, count: int) -> str:
        """ "frequent", "warning" or "" for a number of outages in the window."""
        if count >= self.frequent_count:
            return FrequentLevel.FREQUENT
        if count >= self.warning_count:
            return FrequentLevel.WARNING
        return ""


class FrequentLevel(models.TextChoices):
    WARNING = "warning", _("Outage warning")
    FREQUENT = "frequent", _("Frequent outages")


# `feeders__has_item="…"` / `transformer_areas__has_item="…"`: the list holds this string,
# asked in the database on PostgreSQL and SQLite alike (outages/lookups.py says how).
Outage._meta.get_field("feeders").register_lookup(HasItem)
Outage._meta.get_field("transformer_areas").register_lookup(HasItem)


class OutageNotice(models.Model):
    """One text message to one customer about one moment of an outage: registered, its
    expected restoration changed, power restored (the `OutageEvent` it tells of).

    Written in bulk by `outages.notices.outage_notices_create`, in the same transaction as
    the outage's event, for every covered customer with a phone number; sent afterwards by
    Celery tasks (`outages.tasks.outage_notices_send_task`, 500 a task) through the SMS
    gateway, so the dispatch desk's form never waits for the gateway. The unique
    (event, customer) key is what keeps a customer to one message per event, whatever the
    retries; a sender claims rows with a short lease (`claimed_until`) before it sends them.
    The outage page counts them by state.
    """

    class Kind(models.TextChoices):
        REGISTERED = "registered", _("Outage announced")
        RESTORATION = "restoration", _("Expected restoration changed")
        RESTORED = "restored", _("Power restored")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    outage = models.ForeignKey(Outage, on_delete=models.CASCADE, related_name="notices")
    event = models.ForeignKey(OutageEvent, on_delete=models.CASCADE, related_name="notices")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="outage_notices"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    phone = models.CharField(_("phone"), max_length=20)
    # The message as it goes out: rendered once, so every retry sends the same words.
    text = models.CharField(_("message"), max_length=500)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("delivery rounds"), default=0)
    created_at = models.DateTimeField(_("created at"))
    # A sender holds the row until then; past it (a worker died) the sweep may queue it again.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # After a gateway error: not before then (the task's back-off; the sweep respects it).
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    gateway_reference = models.CharField(_("gateway reference"), max_length=100, blank=True)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("outage notice")
        verbose_name_plural = _("outage notices")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "customer"], name="outage_notice_one_per_customer_and_event"
            )
        ]
        indexes = [
            # The outage page's counts by state.
            models.Index(fields=["outage", "state"], name="outage_notice_state_idx"),
            # The sweep: the few rows still pending.
            models.Index(
                fields=["created_at"],
                condition=Q(state="pending"),
                name="outage_notice_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.outage_id} {self.kind} → {self.phone} ({self.state})"
