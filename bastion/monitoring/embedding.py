"""Reference embedding profiles: centroid, covariance traces and fixed random projections."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bastion.monitoring.config import DriftSettings
from bastion.monitoring.values import round_sig

FloatArray = npt.NDArray[np.float64]
COVARIANCE_ROWS = 5000


@dataclass(frozen=True, slots=True)
class EmbeddingProfile:
    """The reference embedding cloud, summarised for a mean-shift test and projection KS tests.

    ``trace`` is tr(Σ), the total variance; ``trace_sq`` an unbiased estimate of tr(Σ²) (Chen &
    Qin, 2010): together they give the null distribution of the window mean's displacement.
    ``sample`` holds projections of reference vectors on ``directions()``.
    """

    dim: int
    rows: int
    centroid: tuple[float, ...]
    trace: float
    trace_sq: float
    seed: int
    sample: tuple[tuple[float, ...], ...]

    def directions(self) -> FloatArray:
        k = len(self.sample[0]) if self.sample else 0
        return projection_directions(self.dim, k, self.seed)

    def to_doc(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "rows": self.rows,
            "centroid": list(self.centroid),
            "trace": self.trace,
            "trace_sq": self.trace_sq,
            "seed": self.seed,
            "sample": [list(r) for r in self.sample],
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> EmbeddingProfile:
        return cls(
            dim=int(doc["dim"]),
            rows=int(doc["rows"]),
            centroid=tuple(float(v) for v in doc["centroid"]),
            trace=float(doc["trace"]),
            trace_sq=float(doc["trace_sq"]),
            seed=int(doc["seed"]),
            sample=tuple(tuple(float(v) for v in r) for r in doc["sample"]),
        )


def profile_embeddings(
    matrix: FloatArray, *, settings: DriftSettings | None = None, seed: int = 0
) -> EmbeddingProfile:
    """Centroid, tr(Σ), unbiased tr(Σ²) and a sample of projections of the reference vectors."""
    cfg = settings or DriftSettings()
    if matrix.ndim != 2 or matrix.shape[0] < 3:
        raise ValueError("embeddings must be a 2-D array with at least 3 rows")
    x = matrix[np.isfinite(matrix).all(axis=1)]
    n, dim = x.shape
    rng = np.random.default_rng(seed)
    cov_rows = x if n <= COVARIANCE_ROWS else x[rng.choice(n, COVARIANCE_ROWS, replace=False)]
    m = cov_rows.shape[0]
    centred = cov_rows - cov_rows.mean(axis=0)
    trace = float((centred**2).sum() / (m - 1))
    gram = centred @ centred.T if m <= dim else centred.T @ centred
    trace_s2 = float((gram**2).sum() / (m - 1) ** 2)
    trace_sq = (m - 1) ** 2 / ((m - 2) * (m + 1)) * (trace_s2 - trace**2 / (m - 1))
    trace_sq = max(trace_sq, trace**2 / dim, 1e-300)
    keep = min(n, cfg.reference_sample)
    picked = x if n <= keep else x[np.sort(rng.choice(n, keep, replace=False))]
    proj = picked @ projection_directions(dim, cfg.embedding_directions, seed)
    return EmbeddingProfile(
        dim=dim,
        rows=n,
        centroid=tuple(round_sig(v, 9) for v in x.mean(axis=0)),
        trace=round_sig(trace, 9),
        trace_sq=round_sig(trace_sq, 9),
        seed=seed,
        sample=tuple(tuple(round_sig(v, 5) for v in r) for r in proj),
    )


def projection_directions(dim: int, k: int, seed: int) -> FloatArray:
    """k fixed random ±1/√dim directions from an integer hash, stable across numpy versions."""
    i = np.arange(dim, dtype=np.uint64)[:, None]
    j = np.arange(k, dtype=np.uint64)[None, :]
    mask = np.uint64(0xFFFFFFFF)
    h = (i * np.uint64(0x9E3779B1) + j * np.uint64(0x85EBCA77) + np.uint64(seed & 0xFFFF)) & mask
    for shift, mult in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        h = ((h ^ (h >> np.uint64(shift))) * np.uint64(mult)) & mask
    h ^= h >> np.uint64(16)
    signs = 1.0 - 2.0 * ((h >> np.uint64(31)) & np.uint64(1)).astype(np.float64)
    return signs / math.sqrt(dim)
