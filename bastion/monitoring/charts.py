"""Drift charts: a self-contained HTML report (inline SVG) and, if matplotlib is there, a PNG."""

from __future__ import annotations

import html
import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bastion.monitoring.report import DriftReport, FeatureDrift

REFERENCE_COLOUR = "#9ca3af"
LIVE_COLOUR: Mapping[str, str] = MappingProxyType(
    {"drift": "#dc2626", "ok": "#2563eb", "insufficient_data": "#a16207"}
)
MAX_PNG_PANELS = 12


@dataclass(frozen=True, slots=True)
class ChartFiles:
    """What ``write_charts`` wrote; ``png`` is None when matplotlib is not installed."""

    html: Path
    png: Path | None
    note: str


def write_charts(report: DriftReport, directory: Path, stem: str = "drift") -> ChartFiles:
    """Write ``<stem>.html`` always and ``<stem>.png`` when matplotlib can be imported."""
    directory.mkdir(parents=True, exist_ok=True)
    html_path = directory / f"{stem}.html"
    html_path.write_text(render_html(report), encoding="utf-8")
    png_path = directory / f"{stem}.png"
    if write_png(report, png_path):
        return ChartFiles(html_path, png_path, "wrote HTML and PNG")
    return ChartFiles(html_path, None, "matplotlib is not installed: wrote the HTML report only")


def render_html(report: DriftReport) -> str:
    """One page, no scripts, no external assets: a summary, a table and a bar chart per signal."""
    colour = LIVE_COLOUR[report.status]
    title = f"Drift: {report.deployment} v{report.version}"
    rows = "\n".join(_table_row(s) for s in _worst_first(report))
    charts = "\n".join(_panel(s) for s in _worst_first(report) if s.labels)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font:14px system-ui,sans-serif;margin:24px;color:#111}}
table{{border-collapse:collapse}}
td,th{{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}}
td:first-child,th:first-child,td:last-child{{text-align:left}}.drift{{color:#dc2626;font-weight:600}}
.panels{{display:flex;flex-wrap:wrap;gap:12px}}.panel{{border:1px solid #ddd;padding:6px}}
.badge{{color:#fff;background:{colour};padding:2px 8px;border-radius:4px}}
</style></head><body>
<h1>{html.escape(title)} <span class="badge">{report.status}</span></h1>
<p>{report.rows} rows; score {report.score:.2f} ({report.tests} signals tested,
{html.escape(report.correction)} correction at alpha {report.alpha:g}).
A signal drifts only when significant after correction, large enough, and with enough rows.</p>
<table><tr><th>signal</th><th>status</th><th>rows</th><th>psi</th><th>ks</th><th>js</th>
<th>p adj</th><th>why</th></tr>
{rows}
</table>
<h2>Reference (grey) against live</h2>
<div class="panels">
{charts}
</div></body></html>
"""


def write_png(report: DriftReport, path: Path) -> bool:
    """A grid of bar charts, worst first; False (and nothing written) without matplotlib."""
    try:
        figure_module: Any = importlib.import_module("matplotlib.figure")
        agg: Any = importlib.import_module("matplotlib.backends.backend_agg")
    except ImportError:
        return False
    panels = [s for s in _worst_first(report) if s.labels][:MAX_PNG_PANELS]
    cols = min(3, max(1, len(panels)))
    rows = max(1, math.ceil(len(panels) / cols))
    fig = figure_module.Figure(figsize=(4.2 * cols, 2.8 * rows + 0.6), dpi=100)
    agg.FigureCanvasAgg(fig)
    fig.suptitle(f"{report.deployment} v{report.version}: {report.status} ({report.rows} rows)")
    for i, signal in enumerate(panels):
        ax = fig.add_subplot(rows, cols, i + 1)
        labels, reference, live = zip(*_bins(signal), strict=True)
        xs = list(range(len(labels)))
        ax.bar([x - 0.2 for x in xs], reference, 0.4, color=REFERENCE_COLOUR)
        ax.bar([x + 0.2 for x in xs], live, 0.4, color=LIVE_COLOUR[signal.status])
        ax.set_title(f"{signal.name} [{signal.status}] psi {signal.psi or 0:.3f}", fontsize=9)
        ax.set_xticks(xs, [label[:10] for label in labels], rotation=60, fontsize=6)
        ax.tick_params(axis="y", labelsize=7)
    if not panels:
        fig.text(0.5, 0.5, "no binned signals", ha="center")
    fig.tight_layout()
    fig.savefig(str(path))
    return True


def _bins(s: FeatureDrift) -> list[tuple[str, float, float]]:
    """(label, reference share, live share) for each bin that either side uses."""
    bins = zip(s.labels, s.reference, s.live, strict=True)
    return [b for b in bins if b[1] > 0 or b[2] > 0] or [("none", 0.0, 0.0)]


def _worst_first(report: DriftReport) -> list[FeatureDrift]:
    rank = {"drift": 0, "ok": 1, "insufficient_data": 2}
    return sorted(report.signals(), key=lambda s: (rank[s.status], -(s.psi or s.shift or 0.0)))


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}"


def _table_row(s: FeatureDrift) -> str:
    cells = [s.status, str(s.rows), _num(s.psi), _num(s.ks_stat), _num(s.js), _num(s.p_adjusted)]
    body = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    klass = ' class="drift"' if s.status == "drift" else ""
    return f"<tr{klass}><td>{html.escape(s.name)}</td>{body}<td>{html.escape(s.reason)}</td></tr>"


def _panel(s: FeatureDrift, width: int = 320, height: int = 120) -> str:
    """Grouped bars, reference then live, per bin; hover a bar for its label and share."""
    bins = _bins(s)
    top = max([*s.reference, *s.live, 1e-9])
    slot = width / len(bins)
    bar = slot * 0.4
    bars = []
    for i, (label, ref_share, live_share) in enumerate(bins):
        for j, (share, fill) in enumerate(
            ((ref_share, REFERENCE_COLOUR), (live_share, LIVE_COLOUR[s.status]))
        ):
            h = share / top * (height - 14)
            x = i * slot + slot * 0.1 + j * bar
            tip = html.escape(f"{label}: {'reference' if j == 0 else 'live'} {share:.1%}")
            bars.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{fill}"><title>{tip}</title></rect>'
            )
    caption = html.escape(f"{s.name} — {s.status}, psi {_num(s.psi)}")
    return (
        f'<div class="panel"><div>{caption}</div>'
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{caption}">{"".join(bars)}</svg></div>'
    )
