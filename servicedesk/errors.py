"""The one domain error type: what a service raises when its rules refuse an action or input.

Every service (orders, SLA, calls, API clients, outages) raises `DomainError`; the pages put
its `field_errors` on the form's fields and the API answers 400 with the same messages
(`api.exceptions`). `NotAllowed` is the one refinement: the action is not allowed from the
current state, which the API answers with 409.
"""

from __future__ import annotations


class DomainError(Exception):
    """An action the rules do not allow, or input the services refuse.

    `code` is stable for clients ("invalid", "not_allowed"); `field_errors` maps a field
    name to its messages when the problem is with what was typed, so forms and the API can
    show one message per field.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "invalid",
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.field_errors = {
            name: [str(m) for m in msgs] for name, msgs in (field_errors or {}).items()
        }


class NotAllowed(DomainError):
    """The action is not allowed from the order's current state (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_allowed")
