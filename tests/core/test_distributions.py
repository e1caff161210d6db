"""core/distributions.py against SciPy (installed for the tests) on random cases."""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats

from bastion.core.distributions import chi2_sf, norm_sf, t_sf
from tests.support import relatively_close

RTOL = 1e-9


def close(ours: float, theirs: float) -> bool:
    return relatively_close(ours, theirs, RTOL)


def test_chi2_sf_matches_scipy_for_integer_and_real_dof() -> None:
    rng = np.random.default_rng(20)
    for i in range(4000):
        dof = float(rng.integers(1, 60)) if i % 2 else float(rng.uniform(0.5, 2000))
        x = float(rng.uniform(0, 1) * rng.choice([1, 10, 100, 1000, 5000]))
        assert close(chi2_sf(x, dof), float(stats.chi2.sf(x, dof))), (x, dof)
    assert chi2_sf(0.0, 3) == 1.0
    assert chi2_sf(-1.0, 3) == 1.0


def test_t_sf_matches_scipy_stdtr_up_to_a_million_degrees_of_freedom() -> None:
    rng = np.random.default_rng(21)
    for _ in range(4000):
        df = float(rng.choice([rng.uniform(1, 10), rng.uniform(10, 1e3), rng.uniform(1e3, 1e6)]))
        t = float(rng.normal() * rng.choice([0.1, 1, 5, 30]))
        assert close(t_sf(t, df), float(special.stdtr(df, -t))), (t, df)
    assert t_sf(math.inf, 5) == 0.0
    assert t_sf(-math.inf, 5) == 1.0


def test_norm_sf_matches_scipy() -> None:
    rng = np.random.default_rng(22)
    for z in rng.normal(size=2000) * 10:
        assert close(norm_sf(float(z)), float(stats.norm.sf(z))), z
