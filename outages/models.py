"""Power outages known to the centre (faults, planned work, temporary cuts, suspensions).

Entered by the dispatch desk or imported from the distribution system. While an outage is
active or announced, agents see it on the caller's card, read out the expected
restoration time, and link the caller's repair to it instead of sending another crew.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outage(models.Model):
    class Kind(models.TextChoices):
        FAULT = "fault", _("Fault outage")
        PLANNED = "planned", _("Planned outage")
        TEMPORARY = "temporary", _("Temporary outage")
        SUSPENSION = "suspension", _("Supply suspension")

    number = models.CharField(_("number"), max_length=30, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    expected_restoration_at = models.DateTimeField(_("expected restoration"), null=True, blank=True)
    restored_at = models.DateTimeField(_("restored at"), null=True, blank=True, db_index=True)
    notice_at = models.DateTimeField(
        _("announced at"),
        null=True,
        blank=True,
        help_text=_("Planned outages must be announced 3 to 7 days before they start."),
    )
    affects_important_customers = models.BooleanField(
        _("affects important customers"), default=False
    )
    reported_to_authority = models.BooleanField(_("reported to the power authority"), default=False)
    service_areas = models.ManyToManyField(
        "customers.ServiceArea", verbose_name=_("service areas"), blank=True, related_name="outages"
    )
    feeders = models.JSONField(_("feeders"), default=list, blank=True)
    transformer_areas = models.JSONField(_("transformer areas"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-starts_at"]

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
