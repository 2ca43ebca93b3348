"""The text-message (SMS) gateway: one small interface, two adapters, chosen by settings.

`SMS_BACKEND=log` (the default) writes each message to the log and sends nothing: development,
the demo and tests that do not care. `SMS_BACKEND=http` POSTs each message as JSON to
`SMS_GATEWAY_URL` (the carrier's or the provincial messaging platform's endpoint), with
`Authorization: Bearer SMS_GATEWAY_TOKEN` when a token is set:

    POST SMS_GATEWAY_URL  {"to": "13800000000", "text": "…", "reference": "notice-42"}

A 2xx answer means the gateway took the message (its JSON `id`, if any, is kept). A 429, a
5xx, a refused connection or a timeout means "try again later" (`GatewayUnavailable`): the
message was not taken. Any other 4xx means this message will never be taken (a bad number;
`MessageRejected`). `reference` is stable for one message across retries, so a gateway that
took a message whose answer we never saw can drop the repeat.

Callers (`outages.notices`) decide what to retry and when; this module only talks to the
gateway. The standard library's urllib is enough for one POST per message.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings

logger = logging.getLogger(__name__)


class GatewayUnavailable(Exception):
    """The gateway did not take the message this time (5xx, 429, no connection, timeout)."""


class MessageRejected(Exception):
    """The gateway refused this message for good (a 4xx other than 429: a bad number…)."""


@dataclass(frozen=True)
class Sent:
    reference: str  # the gateway's id of the message, or ours when it gives none


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str, reference: str) -> Sent: ...


class LogGateway:
    """Writes the message to the log instead of sending it."""

    def send(self, *, to: str, text: str, reference: str) -> Sent:
        logger.info("SMS to %s (%s): %s", to, reference, text)
        return Sent(reference=reference)


class HttpGateway:
    """POSTs each message to a configurable HTTP gateway (see the module's docstring)."""

    def __init__(self, *, url: str, token: str = "", timeout: float = 10.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, *, to: str, text: str, reference: str) -> Sent:
        body = json.dumps({"to": to, "text": text, "reference": reference}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                content = response.read()
        except urllib.error.HTTPError as error:
            detail = f"HTTP {error.code}"
            if error.code == 429 or error.code >= 500:
                raise GatewayUnavailable(detail) from None
            raise MessageRejected(detail) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise GatewayUnavailable(str(getattr(error, "reason", error))[:200]) from None
        try:
            answer = json.loads(content or b"{}")
        except ValueError:
            answer = {}
        gateway_id = answer.get("id") if isinstance(answer, dict) else None
        return Sent(reference=str(gateway_id or reference)[:100])


def sms_gateway() -> SmsGateway:
    """The gateway the settings name (read on each call, so tests may change them)."""
    if settings.SMS_BACKEND == "http":
        return HttpGateway(
            url=settings.SMS_GATEWAY_URL,
            token=settings.SMS_GATEWAY_TOKEN,
            timeout=settings.SMS_GATEWAY_TIMEOUT_SECONDS,
        )
    return LogGateway()
