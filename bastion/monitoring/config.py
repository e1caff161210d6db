"""DriftSettings: every knob of drift detection, with defaults that do not cry wolf."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bastion.errors import ConfigError

Correction = Literal["bonferroni", "bh"]


@dataclass(frozen=True, slots=True)
class DriftSettings:
    """How profiles are built, how windows are kept and when a shift counts as drift.

    A signal (feature, prediction, confidence, embedding) is flagged only when all three hold:
    the window has ``min_samples`` rows; its p-value, corrected for the number of signals
    tested (``correction``), is at most ``alpha``; and its effect is practically meaningful
    (PSI >= ``min_psi``, or KS statistic / Jensen-Shannon distance / embedding shift >=
    ``min_effect``).
    """

    min_samples: int = 100
    alpha: float = 0.01
    correction: Correction = "bonferroni"
    min_psi: float = 0.1
    min_effect: float = 0.15
    bins: int = 10
    top_k: int = 50
    reference_sample: int = 2000
    window_sample: int = 1000
    embedding_directions: int = 8
    embedding_sample: int = 256
    window_s: float = 3600.0
    window_rows: int = 0
    max_windows: int = 24
    max_streams: int = 64

    def __post_init__(self) -> None:
        checks = {
            "min_samples >= 1": self.min_samples >= 1,
            "0 < alpha < 1": 0.0 < self.alpha < 1.0,
            "min_psi >= 0": self.min_psi >= 0.0,
            "0 <= min_effect <= 1": 0.0 <= self.min_effect <= 1.0,
            "2 <= bins <= 100": 2 <= self.bins <= 100,
            "1 <= top_k <= 50": 1 <= self.top_k <= 50,
            "reference_sample >= 10": self.reference_sample >= 10,
            "window_sample >= 10": self.window_sample >= 10,
            "embedding_directions >= 1": self.embedding_directions >= 1,
            "embedding_sample >= 10": self.embedding_sample >= 10,
            "window_s > 0": self.window_s > 0,
            "window_rows >= 0": self.window_rows >= 0,
            "max_windows >= 1": self.max_windows >= 1,
            "max_streams >= 1": self.max_streams >= 1,
            "correction in (bonferroni, bh)": self.correction in ("bonferroni", "bh"),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise ConfigError(f"invalid DriftSettings: {', '.join(failed)}")
