"""Who made a change: django-auditlog's middleware, for the pages and the admin."""

from __future__ import annotations

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware

from servicedesk.middleware import API_PREFIX


class AuditlogMiddleware(_AuditlogMiddleware):
    """Records the signed-in person as the actor of every audited change in the request.

    Goes after AuthenticationMiddleware. JSON API requests skip it: an integration client
    authenticates inside DRF (there is no Django user to record at this point), the API
    writes orders and calls and no audited data, and the hook it installs per request
    (a signal receiver connected and disconnected) is work the busiest path does not need.
    """

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        return super().__call__(request)
