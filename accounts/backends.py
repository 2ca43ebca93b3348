"""Sign-in throttling for the login page and the admin's (django-axes)."""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.conf import settings


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS: a user name locked out on the
    requesting address is refused before any password is tried.

    A sign-in without a request (the test client's `login()`, a script) comes from no
    address and is not throttled; axes would refuse it outright. Every sign-in over HTTP,
    the login page's and the admin's, passes its request."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the address a sign-in came from. Behind DJANGO_PROXY_COUNT
    reverse proxies, each appending to X-Forwarded-For, it is the entry that many places from
    the right (what the client wrote there itself sits further left and is not believed)."""
    count = settings.PROXY_COUNT
    if count:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")
