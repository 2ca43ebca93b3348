"""What the supervisors' figures are measured against: one row, edited in the admin.

The thresholds of SPEC section 6 differ between utilities and editions of the rules (the
12-second service level, how short an abandoned call may be before it is ignored, how long
a caller must stay silent for a contact to count as resolved at the first call, the
satisfaction target). They are business rules, so they live here as data, not in settings;
`dashboard.metrics` reads this row once per report.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class MetricSettings(models.Model):
    """The single row of report thresholds. An administrator or supervisor edits it in the
    admin; a missing row means the defaults below (the figures of SPEC sections 4 and 6)."""

    service_level_seconds = models.PositiveIntegerField(
        _("service level threshold (seconds)"),
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text=_(
            "A call answered within this many seconds of ringing counts toward the service level (12 s = 4 rings)."
        ),
    )
    short_abandon_seconds = models.PositiveIntegerField(
        _("short abandon (seconds)"),
        default=5,
        validators=[MaxValueValidator(120)],
        help_text=_(
            "A caller who hangs up unanswered within this many seconds is left out of the rates."
        ),
    )
    first_contact_window_hours = models.PositiveIntegerField(
        _("first-contact resolution window (hours)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 30)],
        help_text=_(
            "An answered call counts as resolved at first contact when the same number does not call again within this window."
        ),
    )
    satisfaction_target_percent = models.DecimalField(
        _("satisfaction target (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("90"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    dispatch_target_seconds = models.PositiveIntegerField(
        _("dispatch target (seconds)"),
        default=180,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Orders are to be sent on within this time of the call ending, one by one and on average."
        ),
    )
    repeat_repair_minimum = models.PositiveSmallIntegerField(
        _("repeat repairs from"),
        default=2,
        validators=[MinValueValidator(2)],
        help_text=_(
            "A feeder or transformer area with at least this many faults in the period is ranked as a repeat."
        ),
    )
    wallboard_refresh_seconds = models.PositiveSmallIntegerField(
        _("wallboard refresh (seconds)"),
        default=5,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("report thresholds")
        verbose_name_plural = _("report thresholds")

    def __str__(self) -> str:
        return str(_("Report thresholds"))
