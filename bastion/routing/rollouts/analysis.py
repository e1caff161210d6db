"""SLO checks for canaries and significance tests for arms: z, chi-square and Welch's t."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from bastion.core.distributions import chi2_sf, norm_sf, t_sf
from bastion.routing.rollouts.config import CanaryPlan
from bastion.routing.rollouts.stats import ArmStats

Alternative = Literal["two-sided", "greater"]

# No SciPy (~65 MiB resident, ~1 s to import): each p-value is computed as the SciPy function
# named beside it does (core/distributions.py, tested against SciPy).


@dataclass(frozen=True, slots=True)
class Significance:
    """One significance test: which, on what, its statistic and p-value."""

    test: str
    metric: str
    statistic: float
    p_value: float
    arms: tuple[str, ...] = ()

    def significant(self, alpha: float) -> bool:
        return self.p_value < alpha


@dataclass(frozen=True, slots=True)
class Check:
    """One canary check: the value seen, the limit, whether it holds, and why."""

    name: str
    ok: bool
    value: float | None
    limit: float | None
    detail: str


def two_proportion_z(
    x1: int, n1: int, x2: int, n2: int, *, alternative: Alternative = "two-sided"
) -> Significance | None:
    """Pooled two-proportion z-test of x1/n1 against x2/n2 ('greater': the first is higher)."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return Significance("two-proportion z", "error_rate", 0.0, 1.0)
    z = (p1 - p2) / se
    p = norm_sf(z) if alternative == "greater" else 2 * norm_sf(abs(z))  # scipy.stats.norm.sf
    return Significance("two-proportion z", "error_rate", z, min(1.0, p))


def chi_square_rates(events: Sequence[int], totals: Sequence[int]) -> Significance | None:
    """Chi-square test that k arms share one event rate (a k×2 table, no continuity fix), as
    ``scipy.stats.chi2_contingency(rows, correction=False)``."""
    rows = [(e, t - e) for e, t in zip(events, totals, strict=True) if t > 0]
    if len(rows) < 2:
        return None
    if sum(r[0] for r in rows) == 0 or sum(r[1] for r in rows) == 0:
        return Significance("chi-square", "error_rate", 0.0, 1.0)
    observed = np.asarray(rows, dtype=np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    dof = len(rows) - 1  # (k - 1)(2 - 1)
    return Significance("chi-square", "error_rate", statistic, chi2_sf(statistic, dof))


def welch(
    a: tuple[int, float, float],
    b: tuple[int, float, float],
    *,
    metric: str,
    alternative: Alternative = "two-sided",
) -> Significance | None:
    """Welch's t-test from (n, mean, variance) of two samples ('greater': a's mean is higher),
    as ``scipy.stats.ttest_ind_from_stats(..., equal_var=False)``."""
    (n1, m1, v1), (n2, m2, v2) = a, b
    if n1 < 2 or n2 < 2:
        return None
    se = math.sqrt(v1 / n1 + v2 / n2)
    if se == 0:
        higher = m1 > m2 if alternative == "greater" else m1 != m2
        return Significance("welch t", metric, 0.0, 0.0 if higher else 1.0)
    vn1, vn2 = math.sqrt(v1) ** 2 / n1, math.sqrt(v2) ** 2 / n2  # SciPy squares the std
    denominator = vn1**2 / (n1 - 1) + vn2**2 / (n2 - 1)
    df = (vn1 + vn2) ** 2 / denominator if denominator > 0 else 1.0
    t = (m1 - m2) / math.sqrt(vn1 + vn2)
    p = t_sf(t, df) if alternative == "greater" else 2 * t_sf(abs(t), df)
    return Significance("welch t", metric, t, p)


def moments(values: Sequence[float]) -> tuple[int, float, float]:
    n = len(values)
    if n == 0:
        return 0, 0.0, 0.0
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return n, mean, var


def _limit(name: str, value: float | None, limit: float | None, unit: str = "") -> Check | None:
    if limit is None or value is None:
        return None
    ok = value <= limit
    shown = f"{value:.4g}{unit} {'≤' if ok else '>'} {limit:.4g}{unit}"
    return Check(name, ok, value, limit, shown)


def canary_checks(canary: ArmStats, stable: ArmStats, plan: CanaryPlan) -> list[Check]:
    """The canary arm against its SLOs, then against the stable arm when both have traffic."""
    slo = plan.slo
    found = [
        _limit("error_rate", canary.error_rate, slo.max_error_rate),
        _limit("latency_p95", canary.latency.quantile(0.95), slo.max_p95_ms, " ms"),
        _limit("low_confidence_rate", canary.low_confidence_rate, slo.max_low_confidence_rate),
    ]
    checks = [c for c in found if c is not None]
    if stable.requests < 2 or canary.requests < 2:
        return checks
    z = two_proportion_z(
        canary.errors, canary.requests, stable.errors, stable.requests, alternative="greater"
    )
    if z is not None:
        worse = z.significant(plan.alpha)
        checks.append(
            Check(
                "error_rate_vs_stable",
                not worse,
                z.p_value,
                plan.alpha,
                f"canary {canary.error_rate:.2%} vs stable {stable.error_rate:.2%} "
                f"(one-sided z-test p={z.p_value:.3g}, alpha {plan.alpha})",
            )
        )
    if plan.max_latency_increase is not None:
        cl, sl = canary.latency, stable.latency
        t = welch((cl.n, cl.mean, cl.variance), (sl.n, sl.mean, sl.variance), metric="latency")
        slower = cl.mean > sl.mean * (1 + plan.max_latency_increase)
        if t is not None:
            one_sided = t.p_value / 2 if t.statistic > 0 else 1 - t.p_value / 2
            worse = slower and one_sided < plan.alpha
            checks.append(
                Check(
                    "latency_vs_stable",
                    not worse,
                    one_sided,
                    plan.alpha,
                    f"mean {cl.mean:.3g} ms vs stable {sl.mean:.3g} ms, allowed "
                    f"+{plan.max_latency_increase:.0%} (Welch p={one_sided:.3g})",
                )
            )
    return checks


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def ab_analysis(
    arms: Mapping[str, ArmStats],
    outcomes: Mapping[str, Sequence[float]],
    *,
    min_samples: int,
    alpha: float,
) -> dict[str, Any]:
    """Significance tests across arms and a plain-language verdict.

    Error rates: one chi-square test across all arms. Latency and outcomes: Welch's t-test of
    each arm against the first (the control). Below ``min_samples`` requests in any arm the
    verdict is "not enough data" and no test is run.
    """
    names = list(arms)
    short = {n: arms[n].requests for n in names if arms[n].requests < min_samples}
    if len(names) < 2 or short:
        listed = ", ".join(f"{n} has {c}" for n, c in short.items())
        return {
            "enough_data": False,
            "tests": [],
            "verdict": f"not enough data: every arm needs at least {min_samples} requests"
            + (f" ({listed})" if listed else ""),
        }
    tests: list[Significance] = []
    chi = chi_square_rates([arms[n].errors for n in names], [arms[n].requests for n in names])
    if chi is not None:
        tests.append(Significance(chi.test, chi.metric, chi.statistic, chi.p_value, tuple(names)))
    control = names[0]
    for name in names[1:]:
        a, c = arms[name].latency, arms[control].latency
        t = welch((a.n, a.mean, a.variance), (c.n, c.mean, c.variance), metric="latency")
        if t is not None:
            tests.append(Significance(t.test, t.metric, t.statistic, t.p_value, (name, control)))
        got, base = outcomes.get(name, ()), outcomes.get(control, ())
        if len(got) >= 2 and len(base) >= 2:
            t = welch(moments(got), moments(base), metric="outcome")
            if t is not None:
                tests.append(
                    Significance(t.test, t.metric, t.statistic, t.p_value, (name, control))
                )
    return {"enough_data": True, "tests": tests, "verdict": _verdict(arms, outcomes, tests, alpha)}


def _verdict(
    arms: Mapping[str, ArmStats],
    outcomes: Mapping[str, Sequence[float]],
    tests: Sequence[Significance],
    alpha: float,
) -> str:
    found = [t for t in tests if t.significant(alpha)]
    if not found:
        return (
            f"no significant difference between the arms at alpha {alpha} "
            "(keep collecting data, or treat the arms as equivalent)"
        )
    lines = []
    for t in found:
        if t.metric == "error_rate":
            rates = ", ".join(f"{n} {_percent(arms[n].error_rate)}" for n in t.arms)
            lines.append(f"error rates differ (p={t.p_value:.3g}): {rates}")
        elif t.metric == "latency":
            a, c = t.arms
            direction = "slower" if arms[a].latency.mean > arms[c].latency.mean else "faster"
            lines.append(f"arm {a} is {direction} than {c} (latency, p={t.p_value:.3g})")
        else:
            a, c = t.arms
            _, ma, _ = moments(outcomes[a])
            _, mc, _ = moments(outcomes[c])
            direction = "better" if ma > mc else "worse"
            lines.append(
                f"arm {a} scores {direction} than {c} on feedback outcomes "
                f"({ma:.3g} vs {mc:.3g}, p={t.p_value:.3g})"
            )
    return "; ".join(lines)
