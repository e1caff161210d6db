"""Drift statistics: PSI, two-sample KS, chi-square homogeneity, Jensen-Shannon, embedding shift."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bastion.core.distributions import chi2_sf
from bastion.monitoring.kolmogorov import ks_2samp_asymp

# No SciPy (scipy.stats costs ~65 MiB resident and ~1 s): the p-values are computed as SciPy
# does by core/distributions.py and monitoring/kolmogorov.py, tested against it.

FloatArray = npt.NDArray[np.float64]

PSI_EPSILON = 1e-4
MIN_EXPECTED = 5.0


@dataclass(frozen=True, slots=True)
class HypothesisTest:
    """A test statistic, its p-value and (for chi-square) degrees of freedom."""

    statistic: float
    p_value: float
    dof: int = 0


@dataclass(frozen=True, slots=True)
class EmbeddingShift:
    """How far the window's mean embedding moved from the reference centroid, and how surely."""

    shift: float  # ‖mean - centroid‖ / √tr(Σ): the move in units of the reference's RMS spread
    cosine: float  # cosine distance between the window mean and the centroid
    p_value: float


def proportions(counts: npt.ArrayLike) -> FloatArray:
    arr = np.asarray(counts, dtype=np.float64)
    total = arr.sum()
    return arr / total if total > 0 else np.zeros_like(arr)


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike, eps: float = PSI_EPSILON) -> float:
    """Population stability index over matching bins; empty bins are floored at ``eps``."""
    e = np.maximum(proportions(expected), eps)
    a = np.maximum(proportions(actual), eps)
    return float(((a - e) * np.log(a / e)).sum())


def js_distance(p: npt.ArrayLike, q: npt.ArrayLike) -> float:
    """Jensen-Shannon distance (base 2, so in [0, 1]) between two count or probability vectors."""
    pp, qq = proportions(p), proportions(q)
    m = 0.5 * (pp + qq)

    def kl(x: FloatArray) -> float:
        nz = x > 0
        return float((x[nz] * np.log2(x[nz] / m[nz])).sum())

    return math.sqrt(max(0.0, 0.5 * kl(pp) + 0.5 * kl(qq)))


def ks_2samp(a: npt.ArrayLike, b: npt.ArrayLike) -> HypothesisTest:
    """Two-sample Kolmogorov-Smirnov test (asymptotic p-value: O(n log n) at any size), as
    ``scipy.stats.ks_2samp(a, b, method="asymp")``."""
    x, y = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if x.size == 0 or y.size == 0:
        return HypothesisTest(0.0, 1.0)
    statistic, p_value = ks_2samp_asymp(x, y)
    return HypothesisTest(statistic, p_value)


def chi2_homogeneity(
    reference: npt.ArrayLike, live: npt.ArrayLike, min_expected: float = MIN_EXPECTED
) -> HypothesisTest:
    """Chi-square test that two count vectors come from one distribution.

    Categories whose expected count falls below ``min_expected`` in either row are pooled (and
    a pool still too small joins the smallest kept category), so the chi-square approximation
    holds; with fewer than two categories left there is nothing to test.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(live, dtype=np.float64)
    r_total, c_total = ref.sum(), cur.sum()
    if r_total <= 0 or c_total <= 0:
        return HypothesisTest(0.0, 1.0)
    columns = ref + cur
    grand = r_total + c_total
    threshold = min_expected * grand / min(r_total, c_total)
    keep = columns >= threshold
    rows = [list(ref[keep]), list(cur[keep])]
    pooled = (float(ref[~keep].sum()), float(cur[~keep].sum()))
    if sum(pooled) > 0:
        if sum(pooled) >= threshold or not keep.any():
            rows[0].append(pooled[0])
            rows[1].append(pooled[1])
        else:
            smallest = int(np.argmin(columns[keep]))
            rows[0][smallest] += pooled[0]
            rows[1][smallest] += pooled[1]
    table = np.array(rows)
    if table.shape[1] < 2:
        return HypothesisTest(0.0, 1.0)
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / grand
    chi2 = float(((table - expected) ** 2 / expected).sum())
    dof = table.shape[1] - 1
    return HypothesisTest(chi2, chi2_sf(chi2, dof), dof)  # scipy.stats.chi2.sf


def embedding_shift(
    window_mean: FloatArray,
    *,
    rows: int,
    centroid: FloatArray,
    reference_rows: int,
    trace: float,
    trace_sq: float,
) -> EmbeddingShift:
    """Test whether the window's mean embedding differs from the reference centroid.

    Under no drift, mean - centroid is about normal with covariance Σ(1/n + 1/N), so
    T = ‖mean - centroid‖² / (1/n + 1/N) is a weighted sum of χ²₁ with weights the eigenvalues
    of Σ. Box's (1954) approximation matches its first two moments with g·χ²_h, where
    g = tr(Σ²)/tr(Σ) and h = tr(Σ)²/tr(Σ²): no covariance matrix has to be stored.
    """
    diff = window_mean - centroid
    d2 = float(diff @ diff)
    if rows <= 0 or trace <= 0 or trace_sq <= 0:
        return EmbeddingShift(0.0, 0.0, 1.0)
    stat = d2 / (1.0 / rows + 1.0 / max(reference_rows, 1))
    g, h = trace_sq / trace, trace**2 / trace_sq
    norms = float(np.linalg.norm(window_mean) * np.linalg.norm(centroid))
    cosine = 1.0 - float(window_mean @ centroid) / norms if norms > 0 else 0.0
    return EmbeddingShift(math.sqrt(d2 / trace), cosine, chi2_sf(stat / g, h))


def rejection_threshold(p_values: Sequence[float], alpha: float, method: str) -> float:
    """The p-value at or below which a signal is significant: alpha/m, or BH's step-up cut."""
    m = len(p_values)
    if m == 0:
        return 0.0
    if method == "bonferroni":
        return alpha / m
    ranked = np.sort(np.asarray(p_values, dtype=np.float64))
    passing = np.nonzero(ranked <= alpha * np.arange(1, m + 1) / m)[0]
    return float(alpha * (passing[-1] + 1) / m) if passing.size else 0.0


def adjust_p_values(p_values: Sequence[float], method: str = "bonferroni") -> list[float]:
    """Correct p-values for testing many signals: Bonferroni (FWER) or Benjamini-Hochberg."""
    m = len(p_values)
    if m == 0:
        return []
    p = np.asarray(p_values, dtype=np.float64)
    if method == "bonferroni":
        return [float(v) for v in np.minimum(p * m, 1.0)]
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    return [float(v) for v in out]
