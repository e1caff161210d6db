"""The two-sample Kolmogorov-Smirnov test, asymptotic p-value, without SciPy.

``ks_2samp_asymp`` reproduces ``scipy.stats.ks_2samp(x, y, method="asymp")`` (SciPy 1.17):
the statistic from the two empirical CDFs, and the p-value ``kstwo.sf(d, round(m·n/(m+n)))``,
the exact distribution of the one-sample statistic D_n, which SciPy computes by Simard and
L'Ecuyer's (2011) choice among Ruben-Gambino's closed forms, Durbin's matrix (in Marsaglia,
Tsang and Wang's form), Pomeranz's recursion, Pelz-Good's series and 2·P(D_n⁺ ≥ d)
(``scipy.stats._ksstats._kolmogn``): each is ported below in the same regions.
P(D_n⁺ ≥ d) (``scipy.special.smirnov``, C code in SciPy) is Birnbaum and Tingey's exact sum
here, computed in log space. tests/monitoring/test_kolmogorov.py compares both with SciPy.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

_E128 = 128
_EP128 = math.ldexp(1.0, _E128)
_EM128 = math.ldexp(1.0, -_E128)
_SQRT2PI = math.sqrt(2 * math.pi)
_LOG_2PI = math.log(2 * math.pi)
_MIN_LOG = -708
_PI2, _PI4, _PI6 = math.pi**2, math.pi**4, math.pi**6
# Stirling coefficients B_2j / (2j(2j-1)), j = 8 … 1 (as SciPy's _ksstats)
_STIRLING = [
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
]


def ks_2samp_asymp(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[float, float]:
    """(D, p): the two-sided statistic and its asymptotic p-value; samples not empty."""
    x = np.sort(np.asarray(a, dtype=np.float64))
    y = np.sort(np.asarray(b, dtype=np.float64))
    n1, n2 = x.shape[0], y.shape[0]
    both = np.concatenate([x, y])
    diffs = (
        np.searchsorted(x, both, side="right") / n1 - np.searchsorted(y, both, side="right") / n2
    )
    min_s = float(np.clip(-diffs[np.argmin(diffs)], 0, 1))
    max_s = float(diffs[np.argmax(diffs)])
    d = min_s if min_s > max_s else max_s
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    return d, _clip(kolmogorov_sf(int(np.round(en)), d))


def kolmogorov_sf(n: int, x: float) -> float:
    """P(D_n ≥ x) for the two-sided one-sample statistic (``scipy.stats.kstwo.sf``)."""
    if x >= 1.0:
        return 0.0
    if x <= 0.0:
        return 1.0
    t = n * x
    if t <= 1.0:  # Ruben-Gambino: 1/2n <= x <= 1/n
        if t <= 0.5:
            return 1.0
        if n <= 140:
            prob = float(np.prod(np.arange(1, n + 1) * (1.0 / n) * (2 * t - 1)))
        else:
            prob = math.exp(_log_nfactorial_div_n_pow_n(n) + n * math.log(2 * t - 1))
        return _clip(1.0 - prob)
    if t >= n - 1:  # Ruben-Gambino
        return _clip(2 * (1.0 - x) ** n)
    if x >= 0.5:
        return _clip(2 * smirnov(n, x))
    nxsquared = t * x
    if n <= 140:
        if nxsquared <= 0.754693:
            return _clip(1.0 - _durbin_cdf(n, x))
        if nxsquared <= 4:
            return _clip(1.0 - _pomeranz_cdf(n, x))
        return _clip(2 * smirnov(n, x))  # Miller's approximation
    if nxsquared >= 370.0:
        return 0.0
    if nxsquared >= 2.2:
        return _clip(2 * smirnov(n, x))
    if nxsquared >= 18.0:
        cdf = 1.0
    elif n <= 100000 and n * x**1.5 <= 1.4:
        cdf = _durbin_cdf(n, x)
    else:
        cdf = _pelz_good_cdf(n, x)
    return _clip(1.0 - cdf)


def smirnov(n: int, x: float) -> float:
    """P(D_n⁺ ≥ x), the one-sided statistic (``scipy.special.smirnov``): Birnbaum and
    Tingey's sum x·Σ_j C(n, j)(1 − x − j/n)^(n−j)(x + j/n)^(j−1), j = 0 … ⌊n(1 − x)⌋."""
    if x >= 1.0:
        return 0.0
    if x <= 0.0:
        return 1.0
    if n == 1:
        return 1.0 - x
    nx = n * x
    last = math.floor(n - nx)
    j = np.arange(last + 1, dtype=np.float64)
    log_choose = np.concatenate([[0.0], np.cumsum(np.log((n - j[1:] + 1) / j[1:]))])
    rest = (n - nx - j) / n
    keep = rest > 0
    j, log_choose, rest = j[keep], log_choose[keep], rest[keep]
    if j.size == 0:
        return 0.0
    terms = log_choose + (n - j) * np.log(rest) + (j - 1) * np.log((nx + j) / n)
    top = float(terms.max())
    return _clip(x * math.exp(top) * float(np.exp(terms - top).sum()))


def _clip(p: float) -> float:
    return min(1.0, max(0.0, float(p)))


def _log_nfactorial_div_n_pow_n(n: int) -> float:
    rn = 1.0 / n
    return math.log(n) / 2 - n + _LOG_2PI / 2 + rn * float(np.polyval(_STIRLING, rn / n))


def _durbin_cdf(n: int, d: float) -> float:
    """P(D_n ≤ d) by Durbin's matrix, as Marsaglia, Tsang and Wang compute it."""
    if d >= 1.0:
        return 1.0
    nd = n * d
    if nd <= 0.5:
        return 0.0
    k = math.ceil(nd)
    h = k - nd
    m = 2 * k - 1
    big = np.zeros([m, m])
    intm = np.arange(1, m + 1)
    v = 1.0 - h**intm
    w = np.empty(m)
    fac = 1.0
    for j in intm:
        w[j - 1] = fac
        fac /= j
        v[j - 1] *= fac
    tt = max(2 * h - 1.0, 0) ** m - 2 * h**m
    v[-1] = (1.0 + tt) * fac
    for i in range(1, m):
        big[i - 1 :, i] = w[: m - i + 1]
    big[:, 0] = v
    big[-1, :] = np.flip(v, axis=0)
    power = np.eye(m)
    nn, expnt, big_expnt = n, 0, 0
    while nn > 0:
        if nn % 2:
            power = np.matmul(power, big)
            expnt += big_expnt
        big = np.matmul(big, big)
        big_expnt *= 2
        if abs(big[k - 1, k - 1]) > _EP128:
            big /= _EP128
            big_expnt += _E128
        nn //= 2
    p = float(power[k - 1, k - 1])
    for i in range(1, n + 1):
        p = i * p / n
        if abs(p) < _EM128:
            p *= _EP128
            expnt -= _E128
    return _clip(math.ldexp(p, expnt) if expnt else p)


def _pomeranz_bounds(i: int, n: int, ll: int, ceilf: int, roundf: int) -> tuple[int, int]:
    if i == 0:
        j1, j2 = -ll - ceilf - 1, ll + ceilf - 1
    else:
        half, odd = divmod(i + 1, 2)
        if odd == 0:
            if half == n + 1:
                j1, j2 = n - ll - ceilf - 1, n + ll + ceilf - 1
            else:
                j1, j2 = half - 1 - ll - roundf - 1, half + ll - 1 + ceilf - 1
        else:
            j1, j2 = half - 1 - ll - 1, half + ll + roundf - 1
    return max(j1 + 2, 0), min(j2, n)


def _pomeranz_cdf(n: int, x: float) -> float:
    """P(D_n ≤ x) by Pomeranz's recursion (two rows kept, rescaled against underflow)."""
    t = n * x
    ll = math.floor(t)
    f = 1.0 * (t - ll)
    g = min(f, 1.0 - f)
    ceilf, roundf = (1 if f > 0 else 0), (1 if f > 0.5 else 0)
    npwrs = 2 * (ll + 1)
    gpower, twogpower, onem2gpower = np.empty(npwrs), np.empty(npwrs), np.empty(npwrs)
    gpower[0] = twogpower[0] = onem2gpower[0] = 1.0
    expnt = 0
    g_n, two_g_n, one_m2g_n = g / n, 2 * g / n, (1 - 2 * g) / n
    for m in range(1, npwrs):
        gpower[m] = gpower[m - 1] * g_n / m
        twogpower[m] = twogpower[m - 1] * two_g_n / m
        onem2gpower[m] = onem2gpower[m - 1] * one_m2g_n / m
    v0, v1 = np.zeros([npwrs]), np.zeros([npwrs])
    v1[0] = 1
    v0s, v1s = 0, 0
    j1, j2 = _pomeranz_bounds(0, n, ll, ceilf, roundf)
    for i in range(1, 2 * n + 2):
        k1 = j1
        v0, v1 = v1, v0
        v0s, v1s = v1s, v0s
        v1.fill(0.0)
        j1, j2 = _pomeranz_bounds(i, n, ll, ceilf, roundf)
        edge = i == 1 or i == 2 * n + 1
        pwrs = gpower if edge else (twogpower if i % 2 else onem2gpower)
        ln2 = j2 - k1 + 1
        if ln2 > 0:
            conv = np.convolve(v0[k1 - v0s : k1 - v0s + ln2], pwrs[:ln2])
            start, length = j1 - k1, j2 - j1 + 1
            v1[:length] = conv[start : start + length]
            if 0 < np.max(v1) < _EM128:
                v1 *= _EP128
                expnt -= _E128
            v1s = v0s + j1 - k1
    ans = float(v1[n - v1s])
    for m in range(1, n + 1):
        if abs(ans) > _EP128:
            ans *= _EM128
            expnt += _E128
        ans *= m
    return _clip(math.ldexp(ans, expnt) if expnt else ans)


def _pelz_good_cdf(n: int, x: float) -> float:
    """Pelz and Good's approximation to P(D_n ≤ x) for small n·x²."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    z = math.sqrt(n) * x
    z2, z3, z4, z6 = z**2, z**3, z**4, z**6
    qlog = -_PI2 / 8 / z2
    if qlog < _MIN_LOG:
        return 0.0
    q = math.exp(qlog)
    k1a, k1b = -z2, _PI2 / 4
    k2a, k2b, k2c = 6 * z6 + 2 * z4, (2 * z4 - 5 * z2) * _PI2 / 4, _PI4 * (1 - 2 * z2) / 16
    k3d = _PI6 * (5 - 30 * z2) / 64
    k3c = _PI4 * (-60 * z2 + 212 * z4) / 16
    k3b = _PI2 * (135 * z4 - 96 * z6) / 4
    k3a = -30 * z6 - 90 * z**8
    sums = np.zeros(4)
    maxk = math.ceil(16 * z / math.pi)
    for k in range(maxk, 0, -1):
        m = 2 * k - 1
        m2, m4, m6 = m**2, m**4, m**6
        coeffs = np.array(
            [
                1.0,
                k1a + k1b * m2,
                k2a + k2b * m2 + k2c * m4,
                k3a + k3b * m2 + k3c * m4 + k3d * m6,
            ]
        )
        sums *= np.power(q, 8 * k)
        sums += coeffs
    sums *= q
    sums *= _SQRT2PI
    sums /= np.array([z, 6 * z4, 72 * z**7, 6480 * z**10])
    q = math.exp(-_PI2 / 2 / z2)
    ks = np.arange(maxk, 0, -1)
    ksquared = ks**2
    sqrt3z, kspi = math.sqrt(3) * z, math.pi * ks
    qpowers = q**ksquared
    sums[2] += float(np.sum(ksquared * qpowers)) * _PI2 * _SQRT2PI / (-36 * z3)
    k3extra = np.sum((sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpowers)
    sums[3] += float(k3extra) * _PI2 * _SQRT2PI / (216 * z6)
    sums /= np.power(n * 1.0, np.arange(len(sums)) / 2.0)
    return float(sum(sums))
