"""Small inline-SVG charts for self-contained HTML reports: no JavaScript, no network.

Each function returns an ``<svg>`` element as a string, sized in CSS pixels,
with its own axes, gridlines and legend, styled by classes that the page's
stylesheet may refine (``.dw-axis``, ``.dw-grid``, ``.dw-label``). All text is
escaped. Series values may be ``None`` (a gap in a line, nothing in a bar).

>>> svg = bar_chart(["a", "b"], {"requests": [3, 5]})
>>> svg.startswith("<svg") and "</svg>" in svg
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from html import escape

#: Categorical colours, colour-blind friendly (Okabe-Ito, without yellow), then a neutral grey.
PALETTE: tuple[str, ...] = (
    "#d55e00",
    "#0072b2",
    "#009e73",
    "#cc79a7",
    "#e69f00",
    "#56b4e9",
    "#8c564b",
    "#000000",
)
NEUTRAL = "#9aa5b1"

_MARGIN = {"left": 56, "right": 16, "top": 28, "bottom": 36}
Number = float | int


def colours(names: Sequence[str], neutral: Sequence[str] = ()) -> dict[str, str]:
    """A colour per series name: palette colours in order, :data:`NEUTRAL` for ``neutral`` names."""
    palette = iter(PALETTE * (len(names) // len(PALETTE) + 1))
    return {name: NEUTRAL if name in neutral else next(palette) for name in names}


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [low, high] (steps of 1, 2 or 5 x 10^k)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0]
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def compact(value: float) -> str:
    """A short number label: 1.2k, 3.4M, 0.25, 12."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.1f}M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.0f}k"
    if magnitude >= 1e3:
        return f"{value / 1e3:.1f}k"
    if magnitude == 0 or magnitude >= 10:
        return f"{value:.0f}"
    return f"{value:.2g}"


def percent(value: float) -> str:
    """A share as a percentage label."""
    return f"{value * 100:.0f}%"


class _Frame:
    """Plot area of a chart and the mapping of data values to pixels."""

    def __init__(self, width: int, height: int, x_range: tuple[float, float], y_ticks: list[float]):
        self.width, self.height = width, height
        self.left, self.top = _MARGIN["left"], _MARGIN["top"]
        self.plot_w = width - _MARGIN["left"] - _MARGIN["right"]
        self.plot_h = height - _MARGIN["top"] - _MARGIN["bottom"]
        self.x0, self.x1 = x_range if x_range[1] > x_range[0] else (x_range[0], x_range[0] + 1)
        self.y_ticks = y_ticks
        self.y0, self.y1 = y_ticks[0], y_ticks[-1] if y_ticks[-1] > y_ticks[0] else y_ticks[0] + 1

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * self.plot_w

    def y(self, value: float) -> float:
        return self.top + self.plot_h - (value - self.y0) / (self.y1 - self.y0) * self.plot_h

    def y_axis(self, y_format: Callable[[float], str]) -> list[str]:
        parts = []
        for tick in self.y_ticks:
            y = self.y(tick)
            parts.append(
                f'<line class="dw-grid" x1="{self.left}" x2="{self.left + self.plot_w}" '
                f'y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e9ef"/>'
                f'<text class="dw-label" x="{self.left - 6}" y="{y + 4:.1f}" '
                f'text-anchor="end">{escape(y_format(tick))}</text>'
            )
        bottom = self.top + self.plot_h
        parts.append(
            f'<line class="dw-axis" x1="{self.left}" x2="{self.left + self.plot_w}" '
            f'y1="{bottom}" y2="{bottom}" stroke="#8792a2"/>'
        )
        return parts

    def x_label(self, x: float, text: str) -> str:
        bottom = self.top + self.plot_h
        return (
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}" stroke="#8792a2"/>'
            f'<text class="dw-label" x="{x:.1f}" y="{bottom + 18}" '
            f'text-anchor="middle">{escape(text)}</text>'
        )


def _svg(width: int, height: int, body: Sequence[str], title: str) -> str:
    return (
        f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px" role="img" '
        f'aria-label="{escape(title)}" font-family="system-ui, sans-serif" font-size="11">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _legend(names: Sequence[str], palette: Mapping[str, str], frame: _Frame) -> list[str]:
    """A one-line legend above the plot area (omitted for a single series)."""
    if len(names) < 2:
        return []
    parts, x = [], float(frame.left)
    for name in names:
        label = name if len(name) <= 28 else name[:27] + "…"
        parts.append(
            f'<rect x="{x:.1f}" y="8" width="10" height="10" rx="2" fill="{palette[name]}"/>'
            f'<text class="dw-label" x="{x + 14:.1f}" y="17">{escape(label)}</text>'
        )
        x += 26 + 6.6 * len(label)
    return parts


def _max(series: Mapping[str, Sequence[Number | None]], stacked: bool) -> float:
    if stacked:
        columns = zip(*series.values(), strict=True)
        return max((sum(v or 0 for v in column) for column in columns), default=0.0)
    return max((v for values in series.values() for v in values if v is not None), default=0.0)


def bar_chart(
    categories: Sequence[str],
    series: Mapping[str, Sequence[Number | None]],
    *,
    title: str = "",
    width: int = 640,
    height: int = 220,
    stacked: bool = True,
    y_format: Callable[[float], str] = compact,
    palette: Mapping[str, str] | None = None,
    label_every: int = 1,
) -> str:
    """Vertical bars per category; several series are stacked or side by side.

    ``label_every`` labels only every n-th category on the x axis (for long series).
    """
    names = list(series)
    palette = palette or colours(names)
    frame = _Frame(
        width, height, (0, max(len(categories), 1)), nice_ticks(0, _max(series, stacked))
    )
    slot = frame.plot_w / max(len(categories), 1)
    bar_w = slot * 0.8 / (1 if stacked else max(len(names), 1))
    body = frame.y_axis(y_format)
    for i, category in enumerate(categories):
        base = 0.0
        for j, name in enumerate(names):
            value = series[name][i]
            if not value:
                continue
            x = frame.left + i * slot + slot * 0.1 + (0 if stacked else j * bar_w)
            bottom = base if stacked else 0.0
            top_y, bottom_y = frame.y(bottom + value), frame.y(bottom)
            body.append(
                f'<rect x="{x:.1f}" y="{top_y:.1f}" width="{max(bar_w, 1):.1f}" '
                f'height="{max(bottom_y - top_y, 0.5):.1f}" fill="{palette[name]}">'
                f"<title>{escape(f'{category} · {name}: {y_format(value)}')}</title></rect>"
            )
            if stacked:
                base += value
        if i % label_every == 0:
            body.append(frame.x_label(frame.left + (i + 0.5) * slot, category))
    return _svg(width, height, [*body, *_legend(names, palette, frame)], title)


def line_chart(
    x: Sequence[float],
    series: Mapping[str, Sequence[Number | None]],
    *,
    title: str = "",
    width: int = 640,
    height: int = 220,
    x_ticks: Sequence[tuple[float, str]] = (),
    y_format: Callable[[float], str] = compact,
    y_max: float | None = None,
    palette: Mapping[str, str] | None = None,
    markers: Sequence[tuple[float, str]] = (),
    area: bool = False,
) -> str:
    """Lines over a numeric x axis (e.g. epoch seconds); ``None`` values break a line.

    ``x_ticks`` are (x, label) pairs; ``markers`` draw labelled vertical rules
    (e.g. a model's release); ``area`` fills under a single series.
    """
    names = list(series)
    palette = palette or colours(names)
    top = y_max if y_max is not None else _max(series, stacked=False)
    frame = _Frame(width, height, (min(x, default=0), max(x, default=1)), nice_ticks(0, top))
    body = frame.y_axis(y_format)
    for tick_x, label in x_ticks:
        body.append(frame.x_label(frame.x(tick_x), label))
    for marker_x, label in markers:
        px = frame.x(marker_x)
        body.append(
            f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{frame.top}" y2="{frame.top + frame.plot_h}" '
            f'stroke="#5b6776" stroke-dasharray="4 3"/>'
            f'<text class="dw-label" x="{px + 4:.1f}" y="{frame.top + 12}">{escape(label)}</text>'
        )
    for name in names:
        segments: list[list[str]] = [[]]
        for xv, yv in zip(x, series[name], strict=True):
            if yv is None:
                segments.append([])
            else:
                segments[-1].append(f"{frame.x(xv):.1f},{frame.y(yv):.1f}")
        for points in filter(None, segments):
            if area and len(names) == 1:
                floor = frame.y(frame.y0)
                polygon = f"{points[0].split(',')[0]},{floor:.1f} {' '.join(points)} " + (
                    f"{points[-1].split(',')[0]},{floor:.1f}"
                )
                body.append(f'<polygon points="{polygon}" fill="{palette[name]}" opacity="0.18"/>')
            body.append(
                f'<polyline points="{" ".join(points)}" fill="none" stroke="{palette[name]}" '
                f'stroke-width="2" stroke-linejoin="round"><title>{escape(name)}</title></polyline>'
            )
    return _svg(width, height, [*body, *_legend(names, palette, frame)], title)


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[Number],
    *,
    title: str = "",
    width: int = 640,
    bar_height: int = 18,
    value_format: Callable[[float], str] = compact,
    colour: str = PALETTE[1],
    label_width: int = 200,
) -> str:
    """Horizontal bars with their labels on the left and values at their ends."""
    height = 12 + len(labels) * (bar_height + 6)
    top = max(values, default=0) or 1
    plot_w = width - label_width - 60
    body = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 6 + i * (bar_height + 6)
        bar = max(value / top * plot_w, 1)
        body.append(
            f'<text class="dw-label" x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{bar:.1f}" height="{bar_height}" rx="2" '
            f'fill="{colour}"/>'
            f'<text class="dw-label" x="{label_width + bar + 6:.1f}" '
            f'y="{y + bar_height * 0.7:.1f}">{escape(value_format(value))}</text>'
        )
    return _svg(width, height, body, title)
