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


# --- Pre-computed aggregates of the period report -------------------------------------------
#
# A month of a provincial centre is hundreds of thousands of orders and calls: summing them
# row by row on every report takes seconds. These tables hold the same sums per Beijing day,
# written only by `dashboard.aggregates` (the beat task every minute, and the back-fill
# command). The report adds up the stored days and computes from the raw rows only what no
# stored day covers (today since the last pass, a day never built, a partial day at the edge
# of a period given to the minute). Ids of orders' units and agents are plain integers: the
# sums outlive nothing and must not hold up a deletion elsewhere.


class AggregatePart(models.TextChoices):
    CALLS = "calls", _("Calls")
    ORDERS = "orders", _("Orders")


class AggregateDay(models.Model):
    """One Beijing day of one part (calls or orders) as the aggregate tables hold it.

    `covered_until` is the instant up to which the day's rows were summed (the day's end for a
    closed day; the moment of the last pass for today): rows whose time (a call's first ring,
    an order's acceptance) is later are computed from the raw rows. `basis` records the
    thresholds the threshold-dependent counts were made with; a report asked with other
    thresholds computes that day from the raw rows until the day is rebuilt. `stale` is set
    when the refresh pass finds that a row of the day changed after the build.
    """

    day = models.DateField(_("day"))
    part = models.CharField(_("part"), max_length=10, choices=AggregatePart.choices)
    covered_until = models.DateTimeField(_("covered until"))
    basis = models.CharField(_("thresholds used"), max_length=60)
    built_at = models.DateTimeField(_("built at"))
    stale = models.BooleanField(_("to rebuild"), default=False)

    class Meta:
        verbose_name = _("aggregated day")
        verbose_name_plural = _("aggregated days")
        constraints = [
            models.UniqueConstraint(fields=["day", "part"], name="dashboard_aggday_one_per_part")
        ]
        indexes = [
            models.Index(
                fields=["day"], condition=models.Q(stale=True), name="dashboard_aggday_stale_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.part}"


class AggregateCursor(models.Model):
    """How far the refresh pass has looked for changed rows (one row, name "changes")."""

    name = models.CharField(max_length=40, unique=True)
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} {self.checked_at:%Y-%m-%d %H:%M:%S}"


class CallHour(models.Model):
    """Calls of one Beijing hour of one day taken by one agent (agent None: nobody yet).

    Counts follow the definitions in dashboard/metrics/figures.py, with the thresholds
    recorded in the day's AggregateDay.basis; `wait_total_us` is the sum of answer − ring in
    microseconds over the answered calls.
    """

    day = models.DateField()
    hour = models.PositiveSmallIntegerField()
    agent_id = models.BigIntegerField(null=True)
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    within_threshold = models.PositiveIntegerField(default=0)
    beyond_threshold = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    short_abandoned = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(default=0)
    wait_total_us = models.BigIntegerField(default=0)
    fcr_base = models.PositiveIntegerField(default=0)
    fcr_repeated = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "agent_id"], name="dashboard_callhour_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}h agent {self.agent_id}"


class OrderDay(models.Model):
    """Orders accepted on one Beijing day, per category, sub-type, area type, unit and agent.

    `hNN` count the orders accepted in Beijing hour NN. Dispatch sums leave out child orders;
    `dispatch_within` counts against the dispatch target of the day's basis. The compliance
    counts hold only timers whose outcome no longer depends on the clock (stopped, or
    breached): a timer still running and not breached is late only once its due time has
    passed, which the report asks the raw rows about every time.
    """

    day = models.DateField()
    category = models.CharField(max_length=20)
    subtype_id = models.BigIntegerField(null=True)
    area_type = models.CharField(max_length=10)
    unit_id = models.BigIntegerField(null=True)
    owner_id = models.BigIntegerField(null=True)
    orders = models.PositiveIntegerField(default=0)
    very_satisfied = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    neutral = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)
    own_faults = models.PositiveIntegerField(default=0)
    dispatched = models.PositiveIntegerField(default=0)
    dispatch_total_us = models.BigIntegerField(default=0)
    dispatch_within = models.PositiveIntegerField(default=0)
    arrival_on_time = models.PositiveIntegerField(default=0)
    arrival_late = models.PositiveIntegerField(default=0)
    restoration_on_time = models.PositiveIntegerField(default=0)
    restoration_late = models.PositiveIntegerField(default=0)
    reply_on_time = models.PositiveIntegerField(default=0)
    reply_late = models.PositiveIntegerField(default=0)
    callback_on_time = models.PositiveIntegerField(default=0)
    callback_late = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="dashboard_orderday_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.category} {self.area_type}"


HOUR_FIELDS = tuple(f"h{hour:02d}" for hour in range(24))
# Twenty-four columns rather than an hour in the key: a month of rows stays one row per
# combination of filters a day, which is what the report sums.
for _name in HOUR_FIELDS:
    OrderDay.add_to_class(_name, models.PositiveIntegerField(default=0))


class DispatchBucket(models.Model):
    """How many orders of a day (same keys as OrderDay) were dispatched within `bucket_seconds`.

    Fixed buckets (dashboard.aggregates.dispatch_bucket): whole seconds up to ten minutes,
    whole minutes up to a day, whole hours beyond; the 95th percentile is read from them.
    """

    day = models.DateField()
    category = models.CharField(max_length=20)
    subtype_id = models.BigIntegerField(null=True)
    area_type = models.CharField(max_length=10)
    unit_id = models.BigIntegerField(null=True)
    owner_id = models.BigIntegerField(null=True)
    bucket_seconds = models.PositiveIntegerField()
    orders = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="dashboard_dispbucket_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} ≤{self.bucket_seconds}s"


class PlaceKind(models.TextChoices):
    FEEDER = "feeder", _("Feeder")
    TRANSFORMER_AREA = "transformer_area", _("Transformer area")


class RepairPlace(models.Model):
    """Faults of a day per feeder or transformer area (repeat repairs), without the agent:
    a report filtered by agent counts its few repairs from the raw rows instead."""

    day = models.DateField()
    subtype_id = models.BigIntegerField(null=True)
    area_type = models.CharField(max_length=10)
    unit_id = models.BigIntegerField(null=True)
    kind = models.CharField(max_length=20, choices=PlaceKind.choices)
    place = models.CharField(max_length=60)
    faults = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "kind"], name="dashboard_repairplace_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.place}"


class WallboardCounts(models.Model):
    """The wall screen's at-risk and breached counts of running timers, per timer, area type,
    handling unit and agent, counted once for every wall screen by the beat task every few
    seconds (dashboard.services.wallboard_counts_refresh).

    A busy centre has tens of thousands of timers at risk at once; counting them on every
    refresh of every screen would cost more than the rest of the page. One row (pk 1);
    `rows` is a list of {name, area_type, unit_id, unit, owner_id, owner, at_risk, breached},
    labels included so that a refresh reads nothing else. A screen falls back to counting
    itself when the row is older than a few refreshes (the beat is down).
    """

    counted_at = models.DateTimeField(_("counted at"))
    rows = models.JSONField(_("counts"), default=list)

    class Meta:
        verbose_name = _("wallboard counts")
        verbose_name_plural = _("wallboard counts")

    def __str__(self) -> str:
        return f"{self.counted_at:%Y-%m-%d %H:%M:%S}"
