"""Tail probabilities of the normal, chi-square and Student t distributions, in plain math.

They reproduce ``scipy.stats.norm.sf``, ``scipy.stats.chi2.sf`` and ``scipy.special.stdtr``
(what ``scipy.stats.ttest_ind_from_stats`` uses) to ~1e-12 relative over the ranges Bastion
uses (tests/core/test_distributions.py compares them with SciPy on random cases), without
importing SciPy: ``scipy.stats`` costs a serving process ~65 MiB resident and ~1 s.

The chi-square tail is the regularised upper incomplete gamma function Q(k/2, x/2) (a power
series below x = a + 1, Lentz's continued fraction above, as in Numerical Recipes §6.2); the
t tail is the regularised incomplete beta function I_{ν/(ν+t²)}(ν/2, 1/2) (its continued
fraction, §6.4), with log Γ(a) − log Γ(a+b) from Stirling's series for large a so that a
large ν keeps its precision.
"""

from __future__ import annotations

import math

_EPS = 1e-16
_TINY = 1e-300
_MAX_ITER = 100_000


def norm_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z (``scipy.stats.norm.sf``)."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def chi2_sf(x: float, dof: float) -> float:
    """P(X > x) for X ~ χ² with ``dof`` degrees of freedom, any real dof > 0
    (``scipy.stats.chi2.sf``, i.e. ``scipy.special.chdtrc``)."""
    if math.isnan(x) or math.isnan(dof):
        return math.nan
    if x <= 0:
        return 1.0
    return gammaincc(0.5 * dof, 0.5 * x)


def gammaincc(a: float, x: float) -> float:
    """The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a)."""
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    log_front = -x + a * math.log(x) - math.lgamma(a)
    if x < a + 1.0:  # the series for P(a, x) converges fast here
        term = total = 1.0 / a
        ap = a
        for _ in range(_MAX_ITER):
            ap += 1.0
            term *= x / ap
            total += term
            if abs(term) < abs(total) * _EPS:
                break
        return 1.0 - total * math.exp(log_front)
    # Lentz's method for the continued fraction of Q(a, x)
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        b += 2.0
        c, d, delta = _lentz_step(-i * (i - a), b, c, d)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(log_front) * h


def t_sf(t: float, df: float) -> float:
    """P(T > t) for Student's T with ``df`` > 0 degrees of freedom, real
    (``scipy.stats.t.sf``; ``scipy.special.stdtr(df, -t)``)."""
    if math.isnan(t) or math.isnan(df):
        return math.nan
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    t2 = t * t
    x, y = df / (df + t2), t2 / (df + t2)  # y = 1 - x, without cancelling
    half = 0.5 * betainc(0.5 * df, 0.5, x, y)  # P(|T| > |t|) / 2
    return half if t >= 0 else 1.0 - half


def betainc(a: float, b: float, x: float, y: float) -> float:
    """The regularised incomplete beta function I_x(a, b); ``y`` is 1 - x, given exactly."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on the other side
        return 1.0 - betainc(b, a, y, x)
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)  # the smaller of x, y is exact
    log_y = math.log1p(-x) if x < 0.5 else math.log(y)
    log_front = a * log_x + b * log_y - _log_beta(a, b)
    return math.exp(log_front) * _beta_fraction(a, b, x) / a


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Lentz's method for the continued fraction of I_x(a, b) (Numerical Recipes' betacf)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        c, d, delta = _lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), 1.0, c, d)
        h *= delta
        c, d, delta = _lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), 1.0, c, d)
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _lentz_step(an: float, bn: float, c: float, d: float) -> tuple[float, float, float]:
    """One term ``an / (bn + …)`` of a continued fraction by modified Lentz: the new C and D
    (kept off zero) and the factor ``C·D`` the convergent is multiplied by."""
    d = an * d + bn
    d = _TINY if abs(d) < _TINY else d
    c = bn + an / c
    c = _TINY if abs(c) < _TINY else c
    d = 1.0 / d
    return c, d, d * c


def _log_beta(a: float, b: float) -> float:
    """log B(a, b); for a large, log Γ(a) − log Γ(a+b) without the cancellation of two
    large log-gammas (Stirling's series, exact to ~1e-17 from 50 on)."""
    small, large = min(a, b), max(a, b)
    if large < 50.0:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    total = large + small
    ratio = (
        (large - 0.5) * -math.log1p(small / large)
        - small * math.log(total)
        + small
        + _stirling_tail(large)
        - _stirling_tail(total)
    )
    return math.lgamma(small) + ratio


def _stirling_tail(z: float) -> float:
    """log Γ(z) − ((z − ½) log z − z + ½ log 2π), by its asymptotic series (z ≥ 50)."""
    r = 1.0 / z
    r2 = r * r
    return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680))))
