"""The supervisors' audit page: who changed which configuration data, when, from what to what."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.matrix import page
from audit import display, selectors
from audit.filters import LogEntryFilter

PAGE_SIZE = 50


@page("audit:log")
def log(request):
    """Newest first, filtered by type of data, action, person, Beijing dates and object.

    A page is a count and one query for its entries (with their people and types), however
    many entries and fields it shows: the values are read from the entries themselves.
    """
    filters = LogEntryFilter(request.GET or None, queryset=selectors.audit_entries())
    page = Paginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "form": filters.form,
            "page": page,
            "rows": [display.entry_row(entry) for entry in page],
            "query": query.urlencode(),
        },
    )
