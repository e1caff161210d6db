"""DriftReport: the verdict per signal and overall, as a dict or a text table."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bastion.monitoring.charts import ChartFiles

Status = Literal["ok", "drift", "insufficient_data"]
Role = Literal["feature", "prediction", "confidence", "embedding"]


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    """One monitored signal (a feature, the predictions, the confidences or the embeddings).

    ``p_value`` is the signal's own p-value; ``p_adjusted`` is corrected for the number of
    signals tested in the window. ``reference``/``live`` are the bin proportions behind the
    charts, labelled by ``labels`` (missing last). Statistics that do not apply are None.
    """

    name: str
    role: Role
    kind: str
    status: Status
    reason: str
    rows: int
    missing: int = 0
    invalid: int = 0
    psi: float | None = None
    ks_stat: float | None = None
    js: float | None = None
    chi2: float | None = None
    dof: int | None = None
    shift: float | None = None
    cosine: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    labels: tuple[str, ...] = ()
    reference: tuple[float, ...] = ()
    live: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class DriftReport:
    """Drift of one window (or several merged) of a deployment version against its reference.

    ``status`` is ``drift`` when any signal drifted, ``insufficient_data`` when the window has
    fewer than ``min_samples`` rows (never ``drift`` then), else ``ok``. ``score`` is the share
    of tested signals that drifted (0 to 1).
    """

    deployment: str
    version: int | None
    start: float
    end: float
    rows: int
    status: Status
    score: float
    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None
    confidence: FeatureDrift | None
    embedding: FeatureDrift | None
    alpha: float
    correction: str
    tests: int

    def signals(self) -> list[FeatureDrift]:
        """Every signal: features first, then prediction, confidence and embedding."""
        extra = (self.prediction, self.confidence, self.embedding)
        return [*self.features, *(s for s in extra if s is not None)]

    def drifted(self) -> list[str]:
        """Names of the signals in drift."""
        return [s.name for s in self.signals() if s.status == "drift"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN and infinities become None)."""
        cleaned: dict[str, Any] = _clean(asdict(self))
        return cleaned

    def to_text(self) -> str:
        """A fixed-width table, one line per signal, worst first."""
        head = (
            f"{self.deployment} v{self.version}: {self.status.upper()} "
            f"(score {self.score:.2f}, {self.rows} rows, {self.tests} tests, "
            f"{self.correction} at alpha {self.alpha:g})"
        )
        cols = ("signal", "status", "rows", "psi", "ks", "js", "chi2", "p", "p_adj")
        lines = [head, "  ".join(f"{c:>10}" if i else f"{c:<24}" for i, c in enumerate(cols))]
        for s in sorted(self.signals(), key=_severity):
            cells = (
                s.status,
                str(s.rows),
                *(_fmt(v) for v in (s.psi, s.ks_stat, s.js, s.chi2, s.p_value, s.p_adjusted)),
            )
            lines.append(f"{s.name[:24]:<24}  " + "  ".join(f"{c:>10}" for c in cells))
        return "\n".join(lines)

    def to_html(self) -> str:
        """A self-contained HTML page: summary, table, an inline SVG bar chart per signal."""
        from bastion.monitoring.charts import render_html

        return render_html(self)

    def write_charts(self, directory: Path, stem: str = "drift") -> ChartFiles:
        """Write ``<stem>.html``, and ``<stem>.png`` when matplotlib is installed."""
        from bastion.monitoring.charts import write_charts

        return write_charts(self, directory, stem)


def _severity(s: FeatureDrift) -> tuple[int, float]:
    rank = {"drift": 0, "ok": 1, "insufficient_data": 2}[s.status]
    return rank, -(s.psi or s.shift or 0.0)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}"
    return f"{value:.4f}"


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
