from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from bastion.monitoring.stats import (
    adjust_p_values,
    chi2_homogeneity,
    embedding_shift,
    js_distance,
    ks_2samp,
    psi,
)


def test_psi_known_values_and_empty_bins() -> None:
    assert psi([10, 20, 30], [1, 2, 3]) == pytest.approx(0.0)
    e, a = np.array([0.4, 0.3, 0.2, 0.1]), np.array([0.25, 0.25, 0.25, 0.25])
    assert psi(e, a) == pytest.approx(float(((a - e) * np.log(a / e)).sum()))
    assert math.isfinite(psi([0, 5, 5], [5, 5, 0]))  # empty bins floored at epsilon
    assert psi([1, 1], [1, 0]) > psi([1, 1], [2, 1]) > 0


def test_js_distance_is_bounded_and_symmetric() -> None:
    assert js_distance([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0)
    assert js_distance([1, 0], [0, 1]) == pytest.approx(1.0)
    p, q = [5, 3, 2], [2, 3, 5]
    assert js_distance(p, q) == pytest.approx(js_distance(q, p))
    scipy_distance = pytest.importorskip("scipy.spatial.distance")
    assert js_distance(p, q) == pytest.approx(scipy_distance.jensenshannon(p, q, base=2))


def test_ks_matches_scipy_and_handles_empty_samples() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=800), rng.normal(0.3, 1, size=300)
    ours = ks_2samp(a, b)
    ref = sps.ks_2samp(a, b, method="asymp")
    assert ours.statistic == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue)
    assert ks_2samp([], b).p_value == 1.0


def test_chi2_matches_scipy_on_a_well_filled_table() -> None:
    ref, live = [300, 200, 100, 400], [40, 20, 15, 25]
    ours = chi2_homogeneity(ref, live)
    chi2, p, dof, _ = sps.chi2_contingency([ref, live], correction=False)
    assert (ours.statistic, ours.p_value, ours.dof) == pytest.approx((chi2, p, dof))


def test_chi2_pools_sparse_categories_until_expected_counts_reach_five() -> None:
    ref = [5000, 3000, 1500, 200, 100, 50, 30, 20]
    live = [50, 30, 15, 3, 1, 1, 0, 0]
    result = chi2_homogeneity(ref, live)
    # live has 100 of 10,000 rows: a column needs >= 5 * 10,000 / 100 = 500 in total; the
    # pooled tail has 405, so it joins the smallest kept column
    assert result.dof == 2  # (5000) (3000) (1500 + the pooled tail)
    assert result.p_value > 0.5
    assert chi2_homogeneity([10, 0], [0, 0]).p_value == 1.0
    assert chi2_homogeneity([100], [5]).dof == 0


def test_embedding_shift_p_value_is_calibrated_under_no_drift() -> None:
    rng = np.random.default_rng(1)
    dim, n_ref, n = 24, 5000, 200
    scales = np.linspace(0.2, 1.5, dim)
    ref = rng.normal(size=(n_ref, dim)) * scales
    centroid, trace, trace_sq = ref.mean(0), (scales**2).sum(), (scales**4).sum()
    p_values = []
    for _ in range(400):
        live = rng.normal(size=(n, dim)) * scales
        p_values.append(
            embedding_shift(
                live.mean(0),
                rows=n,
                centroid=centroid,
                reference_rows=n_ref,
                trace=trace,
                trace_sq=trace_sq,
            ).p_value
        )
    assert 0.02 <= np.mean(np.array(p_values) < 0.05) <= 0.09
    moved = embedding_shift(
        centroid + 0.3 * math.sqrt(trace) / math.sqrt(dim),
        rows=n,
        centroid=centroid,
        reference_rows=n_ref,
        trace=trace,
        trace_sq=trace_sq,
    )
    assert moved.shift == pytest.approx(0.3) and moved.p_value < 1e-6


def test_p_value_corrections() -> None:
    p = [0.01, 0.04, 0.03, 0.005]
    assert adjust_p_values(p, "bonferroni") == pytest.approx([0.04, 0.16, 0.12, 0.02])
    # Benjamini-Hochberg, as in R's p.adjust(method="BH")
    assert adjust_p_values(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_p_values([], "bh") == []
    assert adjust_p_values([0.9, 0.8], "bonferroni") == [1.0, 1.0]
