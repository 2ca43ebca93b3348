"""The record of every time personal data left its mask: who, when, which order, what field.

Written by `privacy.services` only: when a person presses "show the full resident ID number"
(or, for supervisors, the phone number) on an order page, and for every CSV or XLSX export
(which holds many orders at once, so it records the export and its row count instead of an
order). Never updated or deleted; administrators read it in the admin.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy.rules import Field


class DisclosureLog(models.Model):
    """One disclosure: a reveal on an order page, or one export file."""

    class Kind(models.TextChoices):
        REVEAL = "reveal", _("Shown in full on the order page")
        EXPORT = "export", _("Export")

    at = models.DateTimeField(_("at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the record still says who after the account is removed.
    username = models.CharField(_("user name"), max_length=150)
    field = models.CharField(
        _("personal data"),
        max_length=20,
        choices=Field.choices,
        blank=True,
        help_text=_("What was shown; for an export, the personal data its rows hold."),
    )
    in_full = models.BooleanField(
        _("shown in full"), default=False, help_text=_("False: the export held it masked.")
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("work order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ticket_number = models.CharField(_("order number"), max_length=24, blank=True)
    export = models.CharField(
        _("export"), max_length=200, blank=True, help_text=_("The file's name.")
    )
    query = models.CharField(
        _("filters"), max_length=500, blank=True, help_text=_("The export's query string.")
    )
    rows = models.PositiveIntegerField(_("rows"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal data disclosure")
        verbose_name_plural = _("personal data disclosures")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.username} {self.get_kind_display()} {self.ticket_number or self.export}"
