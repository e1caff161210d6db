"""SLO checks and significance tests, against hand computations and scipy."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from bastion.routing.rollouts.analysis import (
    ab_analysis,
    canary_checks,
    chi_square_rates,
    two_proportion_z,
    welch,
)
from bastion.routing.rollouts.config import CanaryPlan, SloPlan
from bastion.routing.rollouts.stats import ArmStats


def _arm(requests: int, errors: int, latency_ms: float = 10.0, spread: float = 1.0) -> ArmStats:
    arm = ArmStats()
    for i in range(requests):
        jitter = spread * ((i % 5) - 2)
        arm.record(latency_ms + jitter, error=i < errors, confidences=[0.9])
    return arm


def test_two_proportion_z_matches_the_formula() -> None:
    res = two_proportion_z(30, 200, 10, 200, alternative="greater")
    assert res is not None
    pooled = 40 / 400
    z = (0.15 - 0.05) / math.sqrt(pooled * (1 - pooled) * (2 / 200))
    assert res.statistic == pytest.approx(z)
    assert res.p_value == pytest.approx(sps.norm.sf(z))
    assert two_proportion_z(0, 10, 0, 10) is not None  # no events: nothing differs
    assert two_proportion_z(1, 0, 1, 10) is None


def test_chi_square_agrees_with_z_for_two_arms() -> None:
    chi = chi_square_rates([30, 10], [200, 200])
    z = two_proportion_z(30, 200, 10, 200)
    assert chi is not None and z is not None
    assert chi.p_value == pytest.approx(z.p_value)
    assert chi_square_rates([0, 0], [10, 10]) is not None
    assert chi_square_rates([1], [10]) is None


def test_welch_matches_scipy() -> None:
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 4.0, 6.0, 8.0, 9.0, 10.0]
    ref = sps.ttest_ind(a, b, equal_var=False)
    ma, va = sum(a) / 5, sps.tvar(a)
    mb, vb = sum(b) / 6, sps.tvar(b)
    res = welch((5, ma, va), (6, mb, vb), metric="latency")
    assert res is not None and res.p_value == pytest.approx(ref.pvalue)
    flat = welch((5, 1.0, 0.0), (5, 1.0, 0.0), metric="latency")
    assert flat is not None and flat.p_value == 1.0
    assert welch((1, 1.0, 0.0), (5, 1.0, 0.0), metric="latency") is None


def test_canary_checks_slo_breaches() -> None:
    plan = CanaryPlan(slo=SloPlan(max_error_rate=0.05, max_p95_ms=50.0), max_latency_increase=None)
    checks = {c.name: c for c in canary_checks(_arm(100, 10), ArmStats(), plan)}
    assert not checks["error_rate"].ok and "> 0.05" in checks["error_rate"].detail
    assert checks["latency_p95"].ok
    slow = {c.name: c for c in canary_checks(_arm(100, 0, latency_ms=200), ArmStats(), plan)}
    assert not slow["latency_p95"].ok and "error_rate_vs_stable" not in slow


def test_canary_checks_compare_with_the_stable_arm() -> None:
    plan = CanaryPlan(slo=SloPlan(max_error_rate=0.5), max_latency_increase=0.5)
    checks = {c.name: c for c in canary_checks(_arm(200, 40), _arm(2000, 20), plan)}
    assert checks["error_rate"].ok  # within its SLO ...
    assert not checks["error_rate_vs_stable"].ok  # ... but clearly worse than stable
    slower = canary_checks(_arm(200, 0, latency_ms=40), _arm(200, 0, latency_ms=10), plan)
    assert not {c.name: c for c in slower}["latency_vs_stable"].ok
    same = canary_checks(_arm(200, 2), _arm(200, 2), plan)
    assert all(c.ok for c in same)


def test_low_confidence_check() -> None:
    plan = CanaryPlan(slo=SloPlan(max_low_confidence_rate=0.2, low_confidence_below=0.5))
    arm = ArmStats()
    for i in range(10):
        arm.record(1.0, error=False, confidences=[0.1 if i < 5 else 0.9], low_below=0.5)
    (check,) = [c for c in canary_checks(arm, ArmStats(), plan) if c.name == "low_confidence_rate"]
    assert not check.ok and check.value == 0.5


def test_ab_analysis_verdicts() -> None:
    few = ab_analysis({"a": _arm(3, 0), "b": _arm(50, 0)}, {}, min_samples=10, alpha=0.05)
    assert not few["enough_data"] and "a has 3" in few["verdict"]
    same = ab_analysis({"a": _arm(100, 5), "b": _arm(100, 5)}, {}, min_samples=10, alpha=0.05)
    assert same["enough_data"] and same["verdict"].startswith("no significant difference")
    worse = ab_analysis({"a": _arm(500, 5), "b": _arm(500, 60)}, {}, min_samples=10, alpha=0.05)
    assert "error rates differ" in worse["verdict"] and "b 12.00%" in worse["verdict"]
    scored = ab_analysis(
        {"a": _arm(100, 0), "b": _arm(100, 0)},
        {"a": [1.0, 0.9, 1.0, 0.8] * 10, "b": [0.1, 0.2, 0.0, 0.3] * 10},
        min_samples=10,
        alpha=0.05,
    )
    assert "arm b scores worse than a" in scored["verdict"]
