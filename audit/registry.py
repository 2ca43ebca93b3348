"""What the audit trail records: the configuration data, one registration per model.

django-auditlog writes one ``auditlog.LogEntry`` row for every save, delete and many-to-many
change of a model listed here: who (the signed-in person of the request, through
``audit.middleware``), when (UTC), which object, and per field the old and the new value.

Work orders are deliberately not here: an order's audit trail is its timeline
(``tickets.TicketEvent``, written by every ticket service), and tracking ``tickets.Ticket``
would read the old row back and insert a log row on every save of the busiest table,
the REST create included, and copy callers' personal data into a second table.
"""

from __future__ import annotations

from typing import Any

from auditlog.registry import auditlog
from django.apps import apps
from django.db.models import Model

# model label → django-auditlog register() options.
AUDITED: dict[str, dict[str, Any]] = {
    # Time limits, the holiday calendar and the escalation ladder (sla/README.md).
    "sla.SlaRule": {},
    "sla.Holiday": {},
    "sla.HolidayYear": {},
    "sla.EscalationStep": {},
    # Routing: the rules, the units (with who works in and supervises each) and the service
    # areas whose crew and supply station the rules can follow (tickets/routing.py).
    "customers.RoutingRule": {},
    "customers.HandlingUnit": {"m2m_fields": {"members", "supervisors"}},
    "customers.ServiceArea": {},
    # The taxonomy below the five fixed categories.
    "tickets.SubType": {},
    # The supervisors' report thresholds; `updated_at` only repeats the entry's own time.
    "dashboard.MetricSettings": {"exclude_fields": ["updated_at"]},
    # The frequent-outage levels (outages/README.md).
    "outages.FrequentOutageLevel": {"exclude_fields": ["updated_at"]},
    # Important service matters: every change of a filing's period, areas or script.
    "matters.ImportantMatter": {
        "exclude_fields": ["updated_at", "updated_by"],
        "m2m_fields": {"service_areas"},
    },
    # People and their roles. The password hash never reaches the log: a change shows as
    # masked on both sides, so a reset is on record without any of the hash. Logins (which
    # only touch `last_login`) are not configuration and write nothing.
    "auth.User": {
        "exclude_fields": ["last_login"],
        "mask_fields": ["password"],
        "mask_callable": "audit.registry.mask_secret",
        "m2m_fields": {"groups", "user_permissions"},
    },
    "auth.Group": {"m2m_fields": {"permissions"}},
    # Integration clients: the token hash stays out; a new token still shows, as the change
    # of its visible prefix. `last_used_at` moves with the traffic, not with a decision.
    "api.ApiClient": {"exclude_fields": ["token_hash", "last_used_at"]},
}

MASK = "******"


def mask_secret(value: str) -> str:
    """Hide a secret completely (auditlog's default mask keeps half of the string)."""
    return "" if value in ("", "None") else MASK


def audit_register_all() -> None:
    """Connect django-auditlog to every model above (called once, from AuditConfig.ready)."""
    for label, options in AUDITED.items():
        model = apps.get_model(label)
        if auditlog.contains(model):
            continue
        # A new row's entry would otherwise list the rows pointing at it ("tickets",
        # "timers" …), which are not values of the row itself.
        exclude = [
            *options.get("exclude_fields", []),
            *(relation.name for relation in model._meta.related_objects),
        ]
        auditlog.register(model, **{**options, "exclude_fields": exclude})


def audited_models() -> list[type[Model]]:
    return [apps.get_model(label) for label in AUDITED]
