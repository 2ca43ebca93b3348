from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit trail")

    def ready(self) -> None:
        # Every audited model is listed in one place: audit/registry.py.
        from audit.registry import audit_register_all

        audit_register_all()
