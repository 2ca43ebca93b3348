"""The login page's answer to a sign-in refused by the throttle (django-axes)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import ngettext


def locked_out(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: a sign-in refused because the user name is locked out on this
    address gets the login page again, saying why and for how long, with 429 Too Many
    Requests. Another agent can still sign in on the same desk."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    lockout = ngettext(
        "Too many failed sign-ins: %(username)s cannot sign in on this computer for the next "
        "%(minutes)d minute. Try again then, or ask an administrator to unlock the account.",
        "Too many failed sign-ins: %(username)s cannot sign in on this computer for the next "
        "%(minutes)d minutes. Try again then, or ask an administrator to unlock the account.",
        minutes,
    ) % {"username": username, "minutes": minutes}
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "lockout": lockout,
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "accounts/login.html", context, status=429)
