"""Middleware of the project's own."""

from __future__ import annotations

from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware

# Where the JSON API lives (servicedesk/urls.py mounts it here): machines' requests, no page
# to show.
API_PREFIX = "/api/"


class MessageMiddleware(DjangoMessageMiddleware):
    """Django's one-time messages ("order dispatched") for the pages. The JSON API shows
    none, so its requests skip making the message storage (a cookie store and a session
    store per request, a sixtieth of an API create's work) and, having none, storing it."""

    def process_request(self, request) -> None:
        if not request.path_info.startswith(API_PREFIX):
            super().process_request(request)
