"""Synthetic traffic for the drift tests, and the calibration run behind docs/drift.md.

``python -m tests.monitoring.simulate`` prints the false-alarm and detection figures.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from bastion.monitoring import (
    DriftMonitor,
    DriftReport,
    DriftSettings,
    ReferenceProfile,
    build_profile,
)

CHANNELS = ("web", "ios", "android", "partner", "email", "store")
CHANNEL_P = (0.35, 0.25, 0.2, 0.1, 0.06, 0.04)
SHIFTED_CHANNEL_P = (0.2, 0.25, 0.2, 0.15, 0.12, 0.08)
COUNTRIES = tuple(f"c{i:02d}" for i in range(60))  # more than top_k: the tail goes to __other__
COUNTRY_P = tuple(
    float(w) / sum(1.0 / k**1.1 for k in range(1, 61)) for w in (1.0 / np.arange(1, 61) ** 1.1)
)
SHIFTED: Mapping[str, float] = MappingProxyType(
    {"f00": 0.5, "f02": 0.5, "f05": 0.5}
)  # normal, integer, log-normal


@dataclass(frozen=True)
class Traffic:
    rows: list[dict[str, Any]]
    predictions: list[str]
    confidences: list[float]


def feature_names(features: int) -> list[str]:
    return [f"f{i:02d}" for i in range(features)]


def traffic(
    n: int,
    rng: np.random.Generator,
    *,
    features: int = 20,
    shift: Mapping[str, float] | None = None,
    channel_p: tuple[float, ...] = CHANNEL_P,
) -> Traffic:
    """``n`` rows; ``shift`` moves a numeric feature by that many of its standard deviations.

    Features cycle through four shapes: normal, log-normal, integer counts (with ties) and
    uniform. ``f01`` is missing in about 2% of rows, reference and live alike.
    """
    shift = shift or {}
    columns: dict[str, list[Any]] = {}
    for i, name in enumerate(feature_names(features)):
        s = shift.get(name, 0.0)
        kind = i % 4
        if kind == 0:
            col = rng.normal(s, 1.0, n)
        elif kind == 1:
            col = np.exp(rng.normal(1.0 + 0.5 * s, 0.5, n))
        elif kind == 2:
            col = np.clip(np.round(rng.normal(5.0 + 2.0 * s, 2.0, n)), 0, None)
        else:
            col = rng.uniform(0.0, 1.0, n) + s / np.sqrt(12.0)
        values: list[Any] = col.tolist()
        if name == "f01":
            values = [None if m else v for v, m in zip(values, rng.random(n) < 0.02, strict=True)]
        columns[name] = values
    columns["channel"] = rng.choice(CHANNELS, n, p=channel_p).tolist()
    columns["country"] = rng.choice(COUNTRIES, n, p=COUNTRY_P).tolist()
    names = list(columns)
    rows = [dict(zip(names, vals, strict=True)) for vals in zip(*columns.values(), strict=True)]
    score = 1.0 / (1.0 + np.exp(-(1.5 * np.asarray(columns["f00"]) + rng.normal(0, 1, n))))
    predictions = np.where(score > 0.5, "approve", "decline").tolist()
    confidences = np.maximum(score, 1.0 - score).tolist()
    return Traffic(rows, predictions, confidences)


def reference(rng: np.random.Generator, n: int = 5000, features: int = 20) -> ReferenceProfile:
    t = traffic(n, rng, features=features)
    return build_profile(t.rows, predictions=t.predictions, confidences=t.confidences)


def run_windows(
    profile: ReferenceProfile,
    windows: int,
    rows: int,
    rng: np.random.Generator,
    *,
    settings: DriftSettings | None = None,
    features: int = 20,
    shift: Mapping[str, float] | None = None,
    channel_p: tuple[float, ...] = CHANNEL_P,
) -> list[DriftReport]:
    """Feed ``windows`` hourly windows of ``rows`` rows through a DriftMonitor; one report each."""
    now = [0.0]
    monitor = DriftMonitor(settings, clock=lambda: now[0], rng=random.Random(0))
    monitor.set_reference("sim", 1, profile)
    reports = []
    for w in range(windows):
        now[0] = w * 3600.0 + 1.0
        t = traffic(rows, rng, features=features, shift=shift, channel_p=channel_p)
        for row, pred, conf in zip(t.rows, t.predictions, t.confidences, strict=True):
            monitor.observe("sim", 1, row, prediction=pred, confidence=conf)
        reports.append(monitor.report("sim"))
    return reports


def _line(label: str, value: object) -> None:
    sys.stdout.write(f"{label}: {value}\n")


def calibrate(windows: int = 1000) -> None:
    """The figures in docs/drift.md (a few minutes on two cores)."""
    rng = np.random.default_rng(2024)
    profile = reference(rng)
    for rows in (100, 500, 5000):
        reports = run_windows(profile, windows if rows < 5000 else windows // 5, rows, rng)
        alarms = sum(r.status == "drift" for r in reports)
        naive_psi = sum(any((s.psi or 0) >= 0.1 for s in r.signals()) for r in reports)
        naive_p = sum(any((s.p_value or 1) < 0.05 for s in r.signals()) for r in reports)
        _line(
            f"unshifted, {rows} rows/window",
            f"{alarms}/{len(reports)} windows flagged; any PSI>=0.1 would flag {naive_psi}, "
            f"any uncorrected p<0.05 would flag {naive_p}",
        )
    for rows in (100, 200, 500):
        reports = run_windows(profile, 100, rows, rng, shift=SHIFTED, channel_p=SHIFTED_CHANNEL_P)
        hits = {n: sum(n in r.drifted() for r in reports) for n in [*SHIFTED, "channel"]}
        others = sum(
            bool(set(r.drifted()) - {*SHIFTED, "channel", "__prediction__", "__confidence__"})
            for r in reports
        )
        _line(f"shifted, {rows} rows/window", f"detected {hits} of 100; other flags {others}")
    for s in (0.1, 0.2, 0.3, 0.5):
        reports = run_windows(profile, 100, 500, rng, shift={"f00": s})
        _line(
            f"f00 +{s} sd, 500 rows", f"flagged in {sum('f00' in r.drifted() for r in reports)}/100"
        )
    tic = time.perf_counter()
    run_windows(profile, 5, 2000, rng)
    _line("observe+report, 10,000 rows", f"{time.perf_counter() - tic:.2f} s")


if __name__ == "__main__":
    calibrate(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
