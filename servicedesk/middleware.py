"""Middleware of the project's own."""

from __future__ import annotations

from csp.middleware import CSPMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware

# Where the JSON API lives (servicedesk/urls.py mounts it here): machines' requests, no page
# to show.
API_PREFIX = "/api/"
# The JSON contract under it; its interactive docs (/api/docs/) are a page.
API_V1_PREFIX = API_PREFIX + "v1/"


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's one-time messages ("order dispatched") for the pages. The JSON API shows
    none, so its requests skip making the message storage (a cookie store and a session
    store per request, a sixtieth of an API create's work) and, having none, storing it."""

    def process_request(self, request) -> None:
        if not request.path_info.startswith(API_PREFIX):
            super().process_request(request)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's header (settings.CONTENT_SECURITY_POLICY) on everything but the JSON API
    (/api/v1/): a JSON answer runs no script and loads nothing, so the header would guard
    nothing there, on the path that serves hundreds of requests a second."""

    def process_request(self, request) -> None:
        if not request.path_info.startswith(API_V1_PREFIX):
            super().process_request(request)

    def process_response(self, request, response):
        if request.path_info.startswith(API_V1_PREFIX):
            return response
        return super().process_response(request, response)
