"""Charts as server-rendered SVG: no JavaScript library, no CDN, readable on a wall screen.

Each function takes plain numbers (from `period_metrics`) and returns SVG markup. Labels
are escaped; sizes are in SVG user units and the chart scales with its container.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#0b6e4f", "#2b6cb0", "#b7791f", "#c53030", "#6b46c1", "#2c7a7b"]
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 40


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]


def _frame(title: str, body: list[str], legend: Sequence[str] = (), *, kind: str) -> SafeString:
    legend_items = []
    x = LEFT
    for index, label in enumerate(legend):
        colour = PALETTE[index % len(PALETTE)]
        legend_items.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{colour}"></rect>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}" class="legend">{escape(label)}</text>'
        )
        x += 24 + 13 * len(label)
    svg = (
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}{''.join(legend_items)}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 - every label above went through escape()


def _axis(top_value: float, *, suffix: str = "") -> list[str]:
    parts = []
    plot_h = HEIGHT - TOP - BOTTOM
    for step in range(5):
        value = top_value * step / 4
        y = TOP + plot_h - plot_h * step / 4
        label = f"{value:.0f}{suffix}" if top_value >= 4 else f"{value:.1f}{suffix}"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"></line>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">{label}</text>'
        )
    return parts


def _nice_top(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 4, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if value <= step * 4:
            return step * 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    return ((int(value) // magnitude) + 1) * magnitude


def stacked_bars(
    title: str, labels: Sequence[str], series: Sequence[Series], *, label_every: int = 1
) -> SafeString:
    """Bars per label, stacked by series (e.g. orders per hour, by category)."""
    totals = [sum((s.values[i] or 0) for s in series) for i in range(len(labels))]
    top = _nice_top(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    body = _axis(top)
    for i, label in enumerate(labels):
        y = TOP + plot_h
        for index, s in enumerate(series):
            value = s.values[i] or 0
            if not value:
                continue
            h = plot_h * value / top
            y -= h
            body.append(
                f'<rect class="bar" x="{LEFT + i * slot + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[index % len(PALETTE)]}">'
                f"<title>{escape(label)} {escape(s.label)}: {value:g}</title></rect>"
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{LEFT + i * slot + slot / 2:.1f}" y="{TOP + plot_h + 14}" class="tick" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return _frame(title, body, [s.label for s in series] if len(series) > 1 else (), kind="bars")


def percent_bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    target: float | None = None,
) -> SafeString:
    """One bar per label on a 0-100 % scale, with an optional target line."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    body = _axis(100, suffix="%")
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + i * slot
        if value is not None:
            h = plot_h * value / 100
            body.append(
                f'<rect class="bar" x="{x + slot * 0.2:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.6:.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[0]}"><title>{escape(label)}: {value:g}%</title></rect>'
                f'<text x="{x + slot / 2:.1f}" y="{TOP + plot_h - h - 4:.1f}" class="value" '
                f'text-anchor="middle">{value:g}%</text>'
            )
        else:
            body.append(
                f'<text x="{x + slot / 2:.1f}" y="{TOP + plot_h - 4}" class="tick" '
                f'text-anchor="middle">—</text>'
            )
        body.append(
            f'<text x="{x + slot / 2:.1f}" y="{TOP + plot_h + 14}" class="tick" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    if target is not None:
        body.append(_target_line(target))
    return _frame(title, body, kind="percent")


def percent_line(
    title: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    target: float | None = None,
    label_every: int = 1,
) -> SafeString:
    """A line of percentages over time; gaps where there is no value."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(labels))
    body = _axis(100, suffix="%")
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + i * slot + slot / 2
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
        else:
            y = TOP + plot_h - plot_h * value / 100
            segment.append(f"{x:.1f},{y:.1f}")
            body.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{PALETTE[1]}">'
                f"<title>{escape(label)}: {value:g}%</title></circle>"
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" class="tick" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    if segment:
        segments.append(segment)
    for points in segments:
        body.insert(
            0,
            f'<polyline class="line" fill="none" stroke="{PALETTE[1]}" stroke-width="2" '
            f'points="{" ".join(points)}"></polyline>',
        )
    if target is not None:
        body.append(_target_line(target))
    return _frame(title, body, kind="line")


def _target_line(target: float) -> str:
    plot_h = HEIGHT - TOP - BOTTOM
    y = TOP + plot_h - plot_h * target / 100
    return (
        f'<line class="target" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
        f'stroke="{PALETTE[3]}" stroke-dasharray="6 4"></line>'
        f'<text x="{WIDTH - RIGHT}" y="{y - 4:.1f}" class="tick" text-anchor="end">{target:g}%</text>'
    )
