"""The one domain error type of the tickets services."""

from __future__ import annotations


class TicketError(Exception):
    """An action the rules do not allow, or input the services refuse.

    `code` is stable for clients ("not_allowed", "invalid"); `field_errors` maps a field
    name to its messages when the problem is with what was typed, so forms and the API can
    show one message per field.
    """

    def __init__(self, message: str, *, code: str = "invalid",
                 field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.field_errors = field_errors or {}


class TransitionNotAllowed(TicketError):
    """The action is not allowed from the order's current state (the API answers 409)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="not_allowed")
