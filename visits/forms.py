"""The return-visit page's two forms: the verdict, and "could not reach"."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Satisfaction
from visits.models import VisitReason

# What the agent asks on the phone: satisfied, basically satisfied, dissatisfied. "Basically
# satisfied" (基本满意) is stored as the order's `neutral` level (tickets.models.Satisfaction).
VERDICTS = [
    (Satisfaction.SATISFIED.value, _("Satisfied")),
    (Satisfaction.NEUTRAL.value, _("Basically satisfied")),
    (Satisfaction.DISSATISFIED.value, _("Dissatisfied")),
]


class VisitForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("Customer's verdict"), choices=VERDICTS, widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(label=_("Reason for dissatisfaction"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        reasons = [(r.code, r.name) for r in VisitReason.objects.filter(is_active=True)]
        self.fields["reason"].choices = [("", "—"), *reasons]

    def clean(self) -> dict:
        data = super().clean()
        if data.get("satisfaction") == Satisfaction.DISSATISFIED and not data.get("reason"):
            self.add_error("reason", _("Choose why the customer is dissatisfied."))
        return data


class UnreachedForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
