"""Important service matters (重要服务事项报备): what the centre must tell callers for a while.

A supervisor files one on the matters pages (`/matters/`) when something will bring calls
the agents cannot answer from the knowledge base: a tariff change taking effect, a billing
system upgrade delaying bills, a major event's supply guarantee, a large storm. A filing
holds the period it is in force (from/to), the service areas it concerns and the script
the agents read to a caller from those areas; the console shows it on the caller's card
while it is in force. Who filed it and who last changed it stay on the row (and every
change in the audit trail). Times in UTC.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportantMatter(models.Model):
    title = models.CharField(_("subject"), max_length=200)
    script = models.TextField(
        _("script"), help_text=_("What the agent reads to a caller from these areas.")
    )
    background = models.TextField(
        _("background"), blank=True, help_text=_("For the agents, not read out.")
    )
    valid_from = models.DateTimeField(_("in force from"))
    valid_to = models.DateTimeField(_("in force to"))
    service_areas = models.ManyToManyField(
        "customers.ServiceArea", verbose_name=_("service areas"), related_name="important_matters"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("last changed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("important service matter")
        verbose_name_plural = _("important service matters")
        ordering = ["-valid_from", "-pk"]
        indexes = [
            # "In force now": filings ending after now are few (the caller's card asks this).
            models.Index(fields=["valid_to", "valid_from"], name="matter_in_force_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__gt=models.F("valid_from")),
                name="matter_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def is_in_force(self, now) -> bool:
        return self.valid_from <= now < self.valid_to
