"""Phone calls as the telephony switch (CTI) reports them: ring, answer, hang-up.

A row is created by the first event the switch sends for a call id (switches resend and
reorder events), or by an agent logging a call by hand. Its disposition says what the call
became: a new order, a hastening on an open order, an answered inquiry, a wrong number…
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Disposition(models.TextChoices):
    PENDING = "", _("Not yet recorded")
    ORDER = "order", _("New work order")
    HASTENING = "hastening", _("Hastening on an open order")
    OUTAGE_INFO = "outage_info", _("Told about a known outage")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    NUISANCE = "nuisance", _("Nuisance call")
    SILENT = "silent", _("Silent call / caller hung up")
    OTHER = "other", _("Other")


class Call(models.Model):
    call_id = models.CharField(_("call id"), max_length=64, unique=True)
    caller_phone = models.CharField(_("caller number"), max_length=20, blank=True, db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    ring_at = models.DateTimeField(_("ringing since"), null=True, blank=True, db_index=True)
    answer_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    hangup_at = models.DateTimeField(_("hung up at"), null=True, blank=True)
    disposition = models.CharField(
        _("disposition"),
        max_length=20,
        choices=Disposition.choices,
        blank=True,
        default=Disposition.PENDING,
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [
            # The agent console asks "what is ringing or on the line for me now".
            models.Index(fields=["agent", "hangup_at"], name="call_agent_live_idx"),
        ]

    def __str__(self) -> str:
        return self.call_id

    @property
    def wait_seconds(self) -> float | None:
        """Seconds from ringing to answer (None while unanswered)."""
        if self.ring_at and self.answer_at:
            return (self.answer_at - self.ring_at).total_seconds()
        return None
