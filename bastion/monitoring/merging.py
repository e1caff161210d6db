"""Merging windows of one layout (several closed windows, or another process's windows)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from bastion.monitoring.window import WindowSnapshot

FloatArray = npt.NDArray[np.float64]


def merge(
    snapshots: list[WindowSnapshot],
    rng: np.random.Generator,
    *,
    sample_size: int,
    embedding_sample_size: int,
) -> WindowSnapshot:
    """Merge windows of one layout; samples are subsampled so the result stays uniform."""
    if len(snapshots) == 1:
        return snapshots[0]
    first = snapshots[0]
    sums = [s.embedding_sum for s in snapshots if s.embedding_sum is not None]
    return WindowSnapshot(
        layout=first.layout,
        start=min(s.start for s in snapshots),
        end=max(s.end for s in snapshots),
        rows=sum(s.rows for s in snapshots),
        numeric_counts=tuple(
            sum(c) for c in zip(*(s.numeric_counts for s in snapshots), strict=True)
        ),
        numeric_invalid=tuple(
            sum(c) for c in zip(*(s.numeric_invalid for s in snapshots), strict=True)
        ),
        sample=_merge_samples([(s.sample, s.rows) for s in snapshots], sample_size, rng),
        categorical_counts=tuple(
            sum(c) for c in zip(*(s.categorical_counts for s in snapshots), strict=True)
        ),
        embedding_rows=sum(s.embedding_rows for s in snapshots),
        embedding_sum=np.sum(sums, axis=0) if sums else None,
        embedding_invalid=sum(s.embedding_invalid for s in snapshots),
        embedding_sample=_merge_samples(
            [(s.embedding_sample, s.embedding_rows) for s in snapshots], embedding_sample_size, rng
        ),
    )


def _merge_samples(
    parts: list[tuple[FloatArray, int]], size: int, rng: np.random.Generator
) -> FloatArray:
    """Uniform sample of the union: how many rows each part gives is multivariate hypergeometric."""
    populations = np.array([n for _, n in parts], dtype=np.int64)
    total = int(populations.sum())
    if total == 0:
        return parts[0][0][:0]
    take = rng.multivariate_hypergeometric(populations, min(size, total))
    chosen = [
        p[np.sort(rng.choice(p.shape[0], int(k), replace=False))]
        for (p, _), k in zip(parts, take, strict=True)
        if k
    ]
    return np.concatenate(chosen, axis=0)
