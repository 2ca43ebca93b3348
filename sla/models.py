"""The time limits as data, the running timers, the breaches and the in-app notifications.

Administrators edit ``SlaRule``, ``Holiday``/``HolidayYear`` and ``EscalationStep`` in the
admin. ``Timer`` rows are written only by ``sla.services`` when the ticket services report a
life-cycle event (an agent takes an order, a crew records arrival, ...). ``Breach`` and
``Notification`` rows are written by the scanner (Celery beat, every few seconds) and read
on the supervisors' pages. All times are stored in UTC.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import AreaType
from sla.policy import Limit, Unit


class TimerName(models.TextChoices):
    """The regulated timers (SPEC section 4). The API's ``deadlines`` keys are these names."""

    ANSWER = "answer", _("Answer")
    DISPATCH = "dispatch", _("Dispatch")
    ARRIVAL = "arrival", _("Arrival on site")
    REPLY = "reply", _("Reply")
    CALLBACK = "callback", _("Callback")
    RESTORATION = "restoration", _("Power restoration")
    # Milestones of SPEC sections 3-4 for the handling units and the centre.
    CONTACT = "contact", _("Contact the customer")
    HANDLING = "handling", _("Handling (first stage of a two-stage limit)")
    VISIT = "visit", _("Return visit")


class UnitChoice(models.TextChoices):
    """``sla.policy.Unit`` as database choices (same strings)."""

    SECONDS = Unit.SECONDS.value, _("seconds")
    MINUTES = Unit.MINUTES.value, _("minutes")
    HOURS = Unit.HOURS.value, _("hours")
    CALENDAR_DAYS = Unit.CALENDAR_DAYS.value, _("calendar days")
    WORKING_DAYS = Unit.WORKING_DAYS.value, _("working days")


class Event(models.TextChoices):
    """Life-cycle events that start and stop clocks.

    ``ring``/``answer`` come from the telephony switch (the answer timer is watched on the
    calls themselves); the others are emitted by ``tickets.services``. ``call_ended`` also
    stands for "the order was taken with no call still in progress": from that moment
    the agent is free of the caller and the order must leave the desk.
    """

    RING = "ring", _("the call starts ringing")
    ANSWER = "answer", _("an agent answers")
    CREATED = "created", _("the order is accepted")
    CALL_ENDED = "call_ended", _("the linked call ends")
    DISPATCHED = "dispatched", _("the order is dispatched")
    ACKNOWLEDGED = "acknowledged", _("the unit acknowledges")
    ARRIVED = "arrived", _("the crew is on site")
    RESTORED = "restored", _("power is restored")
    RESOLVED = "resolved", _("the order is resolved")
    REPLIED = "replied", _("the reply is recorded")
    VISITED = "visited", _("the return visit is done")
    CONTACTED = "contacted", _("the unit contacts the customer")
    HANDED_BACK = "handed_back", _("the unit hands the order back")
    CHECKED = "checked", _("the centre accepts the handed-back order")
    REOPENED = "reopened", _("the order is reopened")
    CLOSED = "closed", _("the order is cancelled or merged")


DAY_UNITS = (Unit.CALENDAR_DAYS.value, Unit.WORKING_DAYS.value)
ELAPSED_UNITS = (Unit.SECONDS.value, Unit.MINUTES.value, Unit.HOURS.value)


class SlaRule(models.Model):
    """One time limit: which orders it applies to, how long, and which events start/stop it.

    Created by an administrator in the admin (the defaults of SPEC section 4 are seeded).
    Blank category / sub-type / area type / importance mean "any"; the most specific
    matching rule wins. A rule already used by a timer is never edited in place: saving a
    change in the admin closes this version (``effective_to``) and opens a new one, so an
    order keeps the rule versions in effect when it was accepted.
    """

    name = models.CharField(_("timer"), max_length=20, choices=TimerName.choices)
    category = models.CharField(
        _("category"), max_length=20, blank=True, help_text=_("Blank: every category.")
    )
    subtype = models.ForeignKey(
        "tickets.SubType",
        verbose_name=_("sub-type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Blank: every sub-type."),
    )
    area_type = models.CharField(
        _("area type"),
        max_length=10,
        choices=AreaType.choices,
        blank=True,
        help_text=_("Blank: every area type."),
    )
    important = models.BooleanField(
        _("important customer"),
        null=True,
        blank=True,
        help_text=_("Blank: any customer; yes: only important customers; no: only others."),
    )
    amount = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=UnitChoice.choices)
    start_event = models.CharField(_("clock starts when"), max_length=20, choices=Event.choices)
    stop_event = models.CharField(_("clock stops when"), max_length=20, choices=Event.choices)
    at_risk_share = models.DecimalField(
        _("at-risk share"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("Share of the window after which the timer is at risk (0.80 = 80 %)."),
    )
    effective_from = models.DateTimeField(_("effective from"))
    effective_to = models.DateTimeField(_("effective until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("source or note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("time-limit rule")
        verbose_name_plural = _("time-limit rules")
        ordering = ["name", "category", "area_type", "-effective_from"]
        indexes = [models.Index(fields=["start_event", "is_active"], name="slarule_start_idx")]

    def __str__(self) -> str:
        return f"{self.get_name_display()} {self.amount} {self.get_unit_display()}"

    @property
    def limit(self) -> Limit:
        return Limit(self.amount, Unit(self.unit))

    def clean(self) -> None:
        if self.name == TimerName.ANSWER and self.unit not in ELAPSED_UNITS:
            raise ValidationError(
                {"unit": _("The answer limit is counted in seconds, minutes or hours.")}
            )
        if self.start_event == self.stop_event:
            raise ValidationError(
                {"stop_event": _("The clock must stop on another event than it starts.")}
            )
        if self.effective_to and self.effective_from and self.effective_to <= self.effective_from:
            raise ValidationError({"effective_to": _("The end must come after the start.")})
        if self.subtype_id and self.category and self.subtype.category != self.category:
            raise ValidationError({"subtype": _("This sub-type belongs to another category.")})
        self._clean_two_stages()

    def _two_stage_partners(self, **conditions) -> models.QuerySet[SlaRule]:
        """The rules of the same orders (category, sub-type) still in effect from this
        rule's start: the other stage of a two-stage limit."""
        return (
            SlaRule.objects.filter(
                category=self.category, subtype_id=self.subtype_id, is_active=True, **conditions
            )
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=self.effective_from))
            .exclude(pk=self.pk)
        )

    def _clean_two_stages(self) -> None:
        """A two-stage limit (do it, then reply on the order; sla/README.md) is two rules:
        ``handling`` from dispatch until the unit hands the order back, then a second rule
        whose clock starts at that hand-back. Neither stage may run without the other."""
        if self.name == TimerName.HANDLING and self.stop_event != Event.HANDED_BACK:
            raise ValidationError(
                {
                    "stop_event": _(
                        "The handling limit is the first stage of a two-stage limit: its "
                        "clock stops when the unit hands the order back."
                    )
                }
            )
        if self.effective_from is None:
            return
        if self.start_event == Event.HANDED_BACK and self.is_active:
            first = self._two_stage_partners(name=TimerName.HANDLING, stop_event=Event.HANDED_BACK)
            if not first.exists():
                raise ValidationError(
                    {
                        "start_event": _(
                            "This is the second stage of a two-stage limit: its clock starts "
                            "when the unit hands the order back. Add and switch on its first "
                            "stage first — a “handling” rule for the same category and "
                            "sub-type whose clock stops when the unit hands the order back."
                        )
                    }
                )
        if self.name == TimerName.HANDLING and not self.is_active and self.pk is not None:
            second = self._two_stage_partners(start_event=Event.HANDED_BACK)
            if second.exists():
                raise ValidationError(
                    {
                        "is_active": _(
                            "The second stage of this two-stage limit is switched on: switch "
                            "it off before its first stage."
                        )
                    }
                )


class Timer(models.Model):
    """One running (or finished) clock on one order: started_at → due_at.

    Created by ``sla.services.sla_ticket_event`` when a start event happens; stopped by the
    stop event. ``due_at`` is stored and indexed so "what is due" is one query for the
    scanner. Category, area type, handling unit, owner and importance are copied from
    the order (and kept current on dispatch) so dashboards count timers from one table.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="timers")
    name = models.CharField(_("timer"), max_length=20, choices=TimerName.choices)
    # No index of its own on rule / unit / owner: every index costs each scanner write, and
    # the partial indexes below already serve the running timers these are read for.
    rule = models.ForeignKey(
        SlaRule,
        verbose_name=_("rule"),
        on_delete=models.PROTECT,
        related_name="timers",
        db_index=False,
    )
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    at_risk_at = models.DateTimeField(_("at risk from"))
    estimated = models.BooleanField(
        _("estimated"),
        default=False,
        help_text=_("The deadline lies past the holiday table and was counted Monday to Friday."),
    )
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    pause_reason = models.CharField(_("pause reason"), max_length=200, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused time (s)"), default=0)
    moved_seconds = models.IntegerField(
        _("moved by appointment (s)"),
        default=0,
        help_text=_("How far appointments (预约上门) moved the clock, in seconds."),
    )
    at_risk_notified_at = models.DateTimeField(_("at-risk warning sent at"), null=True, blank=True)
    breached_at = models.DateTimeField(
        _("breached at"),
        null=True,
        blank=True,
        help_text=_("The due time that passed, once recorded."),
    )
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)

    # Copies from the order, for one-table dashboard queries.
    category = models.CharField(_("category"), max_length=20)
    area_type = models.CharField(_("area type"), max_length=10, blank=True)
    handling_unit = models.ForeignKey(
        "customers.HandlingUnit",
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="+",
    )
    is_important = models.BooleanField(_("important customer"), default=False)

    class Meta:
        verbose_name = _("timer")
        verbose_name_plural = _("timers")
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "name"],
                condition=Q(stopped_at__isnull=True),
                name="sla_timer_one_running_per_name",
            ),
        ]
        indexes = [
            # The scanner: "due before now and not yet breached" — only running rows are indexed.
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, breached_at__isnull=True),
                name="sla_timer_due_idx",
            ),
            # The scanner's at-risk pass.
            models.Index(
                fields=["at_risk_at"],
                condition=Q(
                    stopped_at__isnull=True,
                    at_risk_notified_at__isnull=True,
                    breached_at__isnull=True,
                ),
                name="sla_timer_at_risk_idx",
            ),
            # The escalation pass: breached and still running.
            models.Index(
                fields=["breached_at"],
                condition=Q(stopped_at__isnull=True, breached_at__isnull=False),
                name="sla_timer_escalation_idx",
            ),
            # Dashboards: running timers per unit and timer. Kept to this one: every index on
            # this table is written again for each breach the scanner records.
            models.Index(
                fields=["handling_unit", "name", "due_at"],
                condition=Q(stopped_at__isnull=True),
                name="sla_timer_unit_running_idx",
            ),
            # Supervisors' list of estimated deadlines (past the holiday table). Rows are rare
            # and the predicate is false for almost every write, so it costs the scanner nothing.
            models.Index(
                fields=["due_at"],
                condition=Q(stopped_at__isnull=True, estimated=True),
                name="sla_timer_estimated_idx",
            ),
            # Period reports: finished timers by name and start (dispatch average, arrival compliance).
            models.Index(fields=["name", "started_at"], name="sla_timer_name_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.name} → {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    @property
    def paused_for(self) -> timedelta:
        return timedelta(seconds=self.paused_seconds)


class Breach(models.Model):
    """A timer that ran out before it stopped: recorded once, with the moment it happened.

    Written by the scanner (or by the stop of a timer that ran out while the scanner was
    down). ``occurred_at`` is the true moment (the timer's due time), ``recorded_at`` when
    the system noticed. A supervisor acknowledges it with a comment on the breach list.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="breaches")
    # One breach per timer: the unique constraint is what makes "exactly once" hold even
    # when two scanners run at the same time.
    timer = models.OneToOneField(Timer, on_delete=models.CASCADE, related_name="breach")
    name = models.CharField(_("timer"), max_length=20, choices=TimerName.choices)
    occurred_at = models.DateTimeField(_("breached at"))
    recorded_at = models.DateTimeField(_("recorded at"))
    category = models.CharField(_("category"), max_length=20)
    area_type = models.CharField(_("area type"), max_length=10, blank=True)
    handling_unit = models.ForeignKey(
        "customers.HandlingUnit",
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="+",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="+",
    )
    # "acknowledged" here is a supervisor's confirmation, not a unit taking an order (接单).
    acknowledged_at = models.DateTimeField(
        pgettext_lazy("breach", "acknowledged at"), null=True, blank=True
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acknowledged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
        related_name="+",
    )
    acknowledgement = models.TextField(_("acknowledgement"), blank=True)
    # Set once the slow follow-up (order marked supervised, optional e-mail) is done; the
    # scanner picks up rows still NULL, so a worker that dies mid-way loses nothing.
    followed_up_at = models.DateTimeField(_("followed up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("breach")
        verbose_name_plural = _("breaches")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="sla_breach_occurred_idx"),
            models.Index(
                fields=["handling_unit", "occurred_at"], name="sla_breach_unit_occurred_idx"
            ),
            models.Index(
                fields=["id"],
                condition=Q(followed_up_at__isnull=True),
                name="sla_breach_followup_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.name} {self.occurred_at:%Y-%m-%d %H:%M}"


class NotificationKind(models.TextChoices):
    AT_RISK = "at_risk", _("At risk")
    BREACH = "breach", _("Breach")
    ESCALATION = "escalation", _("Escalation")
    HASTENING = "hastening", _("Hastening")


class Notification(models.Model):
    """An in-app message to one user: an order at risk, a breach, an escalation, a hastening.

    Written in bulk by the scanner and by the services; shown as a badge and a list on
    the user's pages until read.
    """

    # Served by the (recipient, read_at) index below.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sla_notifications",
        db_index=False,
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    breach = models.ForeignKey(
        Breach, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    message = models.CharField(_("message"), max_length=300)
    created_at = models.DateTimeField(_("created at"))
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="sla_notification_unread_idx")
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind} {self.message}"


class Holiday(models.Model):
    """One exception to the ordinary week on China's official calendar.

    ``is_working_day`` False: an official day off (法定节假日); True: an adjusted working
    day (调休上班, usually a weekend). Seeded from the chinesecalendar package by
    ``python manage.py sla_load_holidays``; an administrator can add next year's days in
    the admin as soon as the State Council publishes them.
    """

    day = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("adjusted working day"), default=False)
    name = models.CharField(_("holiday"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holidays")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class HolidayYear(models.Model):
    """A year whose official calendar is complete in the holiday table.

    Working-day deadlines that count days in a year not listed here are estimated
    (Monday to Friday) and flagged to supervisors.
    """

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    source = models.CharField(_("source"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holiday-table year")
        verbose_name_plural = _("holiday-table years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class EscalationStep(models.Model):
    """One rung of the escalation ladder.

    Level 1 fires when the breach is recorded and notifies the supervisors of the order's
    handling unit; level n notifies the supervisors n-1 units up the ``parent`` chain (the
    centre management above a crew), if the timer is still running ``after_minutes`` after
    the breach. ``name`` blank: every timer.
    """

    level = models.PositiveSmallIntegerField(_("level"), validators=[MinValueValidator(1)])
    name = models.CharField(_("timer"), max_length=20, choices=TimerName.choices, blank=True)
    after_minutes = models.PositiveIntegerField(
        _("minutes after the breach"),
        default=0,
        help_text=_("Fire when the timer is still running this long after its breach."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation ladder")
        ordering = ["name", "level"]
        constraints = [
            models.UniqueConstraint(fields=["name", "level"], name="sla_escalation_one_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.level}: +{self.after_minutes} min"
