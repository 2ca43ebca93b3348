"""Answers to what Django refuses before any view runs: too large a request, a failed CSRF
check. For the API in its JSON shape; for the pages a page in the user's language."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.views import defaults

from api.exceptions import PayloadTooLarge
from servicedesk.middleware import API_PREFIX

REQUEST_TOO_LARGE = 413


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's handler400. A body over DATA_UPLOAD_MAX_MEMORY_SIZE (RequestDataTooBig, raised
    wherever the body is first read, the CSRF check included) is 413, not 400."""
    if isinstance(exception, RequestDataTooBig):
        return request_too_large(request)
    return defaults.bad_request(request, exception)


def request_too_large(request: HttpRequest) -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        body = {"detail": str(PayloadTooLarge.default_detail), "code": PayloadTooLarge.default_code}
        return JsonResponse(
            body, status=REQUEST_TOO_LARGE, json_dumps_params={"ensure_ascii": False}
        )
    context = {"limit": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    return render(request, "servicedesk/request_too_large.html", context, status=REQUEST_TOO_LARGE)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: most often a form left open across a sign-out or a cookie cleared;
    the page says to reload it and send it again."""
    return render(request, "servicedesk/csrf_failure.html", {"reason": reason}, status=403)
