"""monitoring/kolmogorov.py against SciPy (installed for the tests) on random cases."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from bastion.monitoring.kolmogorov import kolmogorov_sf, ks_2samp_asymp, smirnov
from tests.support import relatively_close

RTOL = 1e-9


def close(ours: float, theirs: float, rtol: float = RTOL) -> bool:
    return relatively_close(ours, theirs, rtol)


def test_two_samples_as_scipy_asymp_at_the_drift_monitors_sizes() -> None:
    """Reference samples up to 2,000 values, windows up to 1,000 (the defaults), ties too."""
    rng = np.random.default_rng(30)
    for i in range(1500):
        x = rng.normal(size=int(rng.integers(1, 2001)))
        y = rng.normal(loc=rng.choice([0.0, 0.05, 0.3, 1.0]), size=int(rng.integers(1, 1001)))
        if i % 3 == 0:
            x, y = np.round(x, 1), np.round(y, 1)
        theirs = stats.ks_2samp(x, y, method="asymp")
        d, p = ks_2samp_asymp(x, y)
        assert d == float(theirs.statistic)
        assert close(p, float(theirs.pvalue), 1e-11), (x.size, y.size, d)


def test_every_region_of_the_one_sample_distribution() -> None:
    """n ≤ 140 (Durbin, Pomeranz, Miller), n > 140 (Durbin, Pelz-Good, 2·smirnov), both
    Ruben-Gambino ends and x ≥ 0.5, for n up to 10,000."""
    rng = np.random.default_rng(31)
    for _ in range(3000):
        n = int(
            rng.choice([rng.integers(1, 141), rng.integers(141, 2000), rng.integers(2000, 10_000)])
        )
        x = float(rng.uniform(0, 1) ** rng.choice([1, 2, 4]))
        assert close(kolmogorov_sf(n, x), float(stats.kstwo.sf(x, n))), (n, x)
        assert close(smirnov(n, x), float(special.smirnov(n, x))), (n, x)
