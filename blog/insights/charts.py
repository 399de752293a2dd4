"""Charts drawn on the server as inline SVG: no script, nothing for the
Content-Security-Policy to allow. Colours are presentation attributes, not
style attributes, which the policy would block. Each chart is a picture of a
table that the page prints beside it; the SVG is labelled and the table is
what a screen reader reads."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
COLOURS = ("#b3261e", "#1f5f8b", "#5b7f2a", "#8a5a00")
AXIS = "#6b6b70"


def nice_ceiling(value: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least the value."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def line_chart(title: str, days: list[date], series: list[tuple[str, list[int]]]) -> SafeString:
    """One line per series over the days, with the axis top, first and last day marked."""
    top = nice_ceiling(max([1, *(v for _, values in series for v in values)]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def point(index: int, value: int) -> str:
        return f"{LEFT + index * step:.1f},{TOP + plot_h - value / top * plot_h:.1f}"

    lines = format_html_join(
        "",
        '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"><title>{}</title></polyline>',
        (
            (" ".join(point(i, v) for i, v in enumerate(values)), COLOURS[n % len(COLOURS)], name)
            for n, (name, values) in enumerate(series)
        ),
    )
    legend = format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"></rect><text x="{}" y="{}">{}</text>',
        (
            (LEFT + 8 + n * 150, TOP, COLOURS[n % len(COLOURS)], LEFT + 22 + n * 150, TOP + 9, name)
            for n, (name, _) in enumerate(series)
        ),
    )
    first, last = (days[0], days[-1]) if days else ("", "")
    axes = format_html(
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="{c}"></line>'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="{c}"></line>'
        '<text x="{lx}" y="{ty}" text-anchor="end">{top}</text><text x="{lx}" y="{b}" text-anchor="end">0</text>'
        '<text x="{l}" y="{dy}">{first}</text><text x="{r}" y="{dy}" text-anchor="end">{last}</text>',
        l=LEFT, r=WIDTH - RIGHT, t=TOP, b=TOP + plot_h, c=AXIS, lx=LEFT - 6, ty=TOP + 10,
        top=top, dy=HEIGHT - 8, first=first, last=last,
    )  # fmt: skip
    return _svg(title, axes + lines + legend)


def bar_chart(title: str, items: Sequence[Sequence[Any]]) -> SafeString:
    """Horizontal bars, one per (label, value), largest first as given."""
    row = 24
    height = TOP + row * max(len(items), 1)
    top = nice_ceiling(max([1, *(value for _, value in items)]))
    label_w = 200
    plot_w = WIDTH - label_w - RIGHT - 40

    def bar(i: int, label: str, value: int) -> tuple[object, ...]:
        y, width = TOP + i * row, value / top * plot_w
        return (
            label_w - 6,
            y + 12,
            label[:32],
            label_w,
            y,
            f"{width:.1f}",
            COLOURS[0],
            f"{label_w + width + 4:.1f}",
            y + 12,
            value,
        )

    bars = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="16" fill="{}"></rect><text x="{}" y="{}">{}</text>',
        (bar(i, label, value) for i, (label, value) in enumerate(items)),
    )
    return _svg(title, bars, height=height)


def _svg(title: str, body: SafeString, height: int = HEIGHT) -> SafeString:
    head = format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'font-family="system-ui, sans-serif" font-size="11" fill="{}">',
        WIDTH,
        height,
        title,
        AXIS,
    )
    return head + format_html("<title>{}</title>", title) + body + mark_safe("</svg>")
