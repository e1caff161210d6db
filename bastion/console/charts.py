"""Inline SVG charts drawn from numbers: bars over time, lines, horizontal bars.

No script, no library, nothing fetched: each chart is a few dozen SVG elements with labels
escaped, so it renders under the console's strict CSP.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

COLORS = ("#3b6fd8", "#e8833a", "#12805c", "#9b51e0")
_W, _H, _PAD_L, _PAD_B, _PAD_T = 640, 150, 44, 20, 10
WIDE = 1240  # a chart across a whole card: the same text size as a half-width one


def _fmt(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2g}"


def _frame(top: float, labels: Sequence[str], unit: str = "", w: int = _W) -> list[str]:
    """Axes, two grid lines and their values, and every few x labels."""
    inner_h = _H - _PAD_B - _PAD_T
    parts = []
    for frac in (0.0, 0.5, 1.0):
        y = _PAD_T + inner_h * (1 - frac)
        parts.append(
            f'<line x1="{_PAD_L}" y1="{y:.1f}" x2="{w}" y2="{y:.1f}" stroke="#e4e7ec"/>'
            f'<text x="{_PAD_L - 6}" y="{y + 3:.1f}" text-anchor="end">'
            f"{escape(_fmt(top * frac) + unit)}</text>"
        )
    n = len(labels)
    step = max(1, n // (6 * w // _W))
    slot = (w - _PAD_L) / max(n, 1)
    for i in range(0, n, step):
        x = _PAD_L + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{_H - 5}" text-anchor="middle">{escape(labels[i])}</text>'
        )
    return parts


def _svg(parts: list[str], title: str, w: int = _W) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg class="chart" viewBox="0 0 {w} {_H}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    color: str = COLORS[0],
    width: int = _W,
) -> Markup:
    """One bar per label (e.g. requests per hour)."""
    top = max([*values, 0.0]) or 1.0
    inner_h = _H - _PAD_B - _PAD_T
    slot = (width - _PAD_L) / max(len(values), 1)
    parts = _frame(top, labels, w=width)
    for i, value in enumerate(values):
        h = inner_h * value / top
        x = _PAD_L + slot * i + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{_PAD_T + inner_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" rx="2" fill="{color}"><title>{escape(labels[i])}: '
            f"{escape(_fmt(value))}</title></rect>"
        )
    return _svg(parts, title, width)


def lines(
    labels: Sequence[str],
    series: Sequence[Sequence[float | None]],
    title: str,
    unit: str = "",
    top: float | None = None,
    width: int = _W,
) -> Markup:
    """Lines over the same labels (None: a gap), e.g. accuracy or drift per window."""
    values = [v for s in series for v in s if v is not None]
    top = top or (max(values) if values else 1.0) or 1.0
    inner_h = _H - _PAD_B - _PAD_T
    slot = (width - _PAD_L) / max(len(labels), 1)
    parts = _frame(top, labels, unit, width)
    for k, points in enumerate(series):
        color = COLORS[k % len(COLORS)]
        path: list[str] = []
        for i, value in enumerate(points):
            if value is None:
                continue
            x = _PAD_L + slot * (i + 0.5)
            y = _PAD_T + inner_h * (1 - value / top)
            path.append(f"{'M' if not path else 'L'}{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{color}"/>')
        if path:
            parts.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
    return _svg(parts, title, width)


def hbar(value: float, top: float, color: str = COLORS[0]) -> Markup:
    """A single horizontal bar (a table cell's share of the largest row)."""
    width = 0.0 if top <= 0 else 100 * min(value / top, 1.0)
    return Markup(
        '<svg class="chart" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">'
        f'<rect width="100" height="8" rx="2" fill="#eef2f6"/>'
        f'<rect width="{width:.1f}" height="8" rx="2" fill="{color}"/></svg>'
    )
