from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def drill_url(cell, query: str = "") -> str:
    """Where a number of the report leads: the order itself, or the rows behind the figure."""
    key = getattr(cell, "drill", "")
    if not key:
        return ""
    if key.startswith("ticket:"):
        return reverse("tickets:detail", args=[key.removeprefix("ticket:")])
    url = reverse("dashboard:drill", args=[key])
    return f"{url}?{query}" if query else url


@register.filter
def duration(seconds) -> str:
    """Seconds as m:ss (or h:mm:ss), for waits and lateness on the wall screen."""
    if seconds is None or seconds == "":
        return "—"
    if hasattr(seconds, "total_seconds"):
        seconds = seconds.total_seconds()
    seconds = int(max(0, round(float(seconds))))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.filter
def percent(value) -> str:
    return "—" if value is None else f"{value:.2f}%"


@register.filter
def instant(value: str | None):
    """An ISO-8601 instant of the report's figures (plain JSON) as a datetime for `date`."""
    return datetime.fromisoformat(value) if value else None
