from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "sla"
    verbose_name = _("Time limits (SLA)")

    def ready(self) -> None:
        # Not domain flow: only drops this process's in-memory copy of the rules.
        from sla.models import SlaRule
        from sla.selectors import rules_cache_clear

        post_save.connect(rules_cache_clear, sender=SlaRule, dispatch_uid="sla-rules-cache")
        post_delete.connect(
            rules_cache_clear, sender=SlaRule, dispatch_uid="sla-rules-cache-delete"
        )
