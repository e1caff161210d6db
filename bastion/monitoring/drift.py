"""The drift decision that does not cry wolf: significant, large enough, and enough data."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from bastion.monitoring.config import DriftSettings
from bastion.monitoring.embedding import EmbeddingProfile
from bastion.monitoring.profile import CONFIDENCE, EMBEDDING, PREDICTION, FeatureProfile
from bastion.monitoring.report import DriftReport, FeatureDrift, Role, Status
from bastion.monitoring.stats import (
    adjust_p_values,
    chi2_homogeneity,
    embedding_shift,
    js_distance,
    ks_2samp,
    proportions,
    psi,
    rejection_threshold,
)
from bastion.monitoring.window import WindowSnapshot

__all__ = ["DriftSettings", "assess"]

FloatArray = npt.NDArray[np.float64]
MIN_KS_VALUES = 20


@dataclass(frozen=True, slots=True)
class _Signal:
    """A signal before the verdict; ``evidence`` pairs each test's p-value with its own effect.

    A test only counts when it is significant and the effect *it* measures is large: a tiny
    but significant histogram shift cannot borrow a noisy KS statistic from a small reservoir.
    """

    row: FeatureDrift  # status and p_adjusted still to be decided
    enough: bool  # condition (c): enough rows to judge this signal
    # (p-value already Bonferroni-corrected within the signal, effect >= its threshold)
    evidence: tuple[tuple[float, bool], ...]

    @property
    def p_value(self) -> float:
        return min(1.0, min((p for p, _ in self.evidence), default=1.0))


def assess(
    snapshot: WindowSnapshot,
    settings: DriftSettings,
    *,
    deployment: str = "",
    version: int | None = None,
) -> DriftReport:
    """Judge every signal of a window against its reference and decide the overall status.

    A signal is in ``drift`` only when (a) a test of it is significant at ``alpha`` after
    correcting for the number of signals tested (and for its own tests); (b) the effect that
    same test measures is practically meaningful: PSI >= ``min_psi`` for the histogram
    chi-square, KS statistic >= ``min_effect`` for KS, PSI or Jensen-Shannon distance for a
    categorical chi-square, shift (in RMS spreads) for the embedding mean; and (c) it has at
    least ``min_samples`` rows. Below (c) it is ``insufficient_data``, whatever the shift.
    """
    layout = snapshot.layout
    signals = [_numeric(p, snapshot, i, settings) for i, p in enumerate(layout.numeric)]
    signals += [
        _categorical(p, snapshot.categorical_counts[j], settings)
        for j, p in enumerate(layout.categorical)
    ]
    if layout.embedding is not None and snapshot.embedding_sum is not None:
        signals.append(_embedding(layout.embedding, snapshot, settings))
    tested = [s for s in signals if s.enough]
    p_values = [s.p_value for s in tested]
    adjusted = adjust_p_values(p_values, settings.correction)
    cut = rejection_threshold(p_values, settings.alpha, settings.correction)
    by_id = {id(s): p for s, p in zip(tested, adjusted, strict=True)}
    rows = [_decide(s, by_id.get(id(s)), cut, settings) for s in signals]
    by_role = {r.role: r for r in rows if r.role != "feature"}
    drifted = sum(r.status == "drift" for r in rows)
    status: Status = "insufficient_data" if snapshot.rows < settings.min_samples else "ok"
    return DriftReport(
        deployment=deployment,
        version=version,
        start=snapshot.start,
        end=snapshot.end,
        rows=snapshot.rows,
        status="drift" if drifted else status,
        score=drifted / len(tested) if tested else 0.0,
        features=tuple(r for r in rows if r.role == "feature"),
        prediction=by_role.get("prediction"),
        confidence=by_role.get("confidence"),
        embedding=by_role.get("embedding"),
        alpha=settings.alpha,
        correction=settings.correction,
        tests=len(tested),
    )


def _decide(
    signal: _Signal, p_adjusted: float | None, cut: float, settings: DriftSettings
) -> FeatureDrift:
    row = replace(signal.row, p_value=signal.p_value)
    if not signal.enough or p_adjusted is None:
        reason = f"fewer than {settings.min_samples} rows"
        return replace(row, status="insufficient_data", reason=reason)
    if cut <= 0 or signal.p_value > cut:
        reason = f"not significant (p_adj {p_adjusted:.3g} > {settings.alpha:g})"
        return replace(row, status="ok", reason=reason, p_adjusted=p_adjusted)
    if not any(p <= cut and large for p, large in signal.evidence):
        reason = "significant but too small to matter"
        return replace(row, status="ok", reason=reason, p_adjusted=p_adjusted)
    reason = "significant and large"
    return replace(row, status="drift", reason=reason, p_adjusted=p_adjusted)


def _role(name: str) -> Role:
    if name == PREDICTION:
        return "prediction"
    return "confidence" if name == CONFIDENCE else "feature"


def _compared(
    profile: FeatureProfile, live: npt.ArrayLike, role: Role
) -> tuple[FloatArray, FloatArray, int]:
    """Reference and live counts to compare, and the rows they hold.

    For input features the missing bin takes part (a feature that stops arriving is drift);
    for predictions and confidences only the values given count.
    """
    ref = np.asarray(profile.counts, dtype=np.float64)
    cur = np.asarray(live, dtype=np.float64)
    if role != "feature":
        ref, cur = ref[:-1], cur[:-1]
    return ref, cur, int(cur.sum())


def _base(
    profile: FeatureProfile, role: Role, *, ref: FloatArray, cur: FloatArray, n: int, missing: int
) -> FeatureDrift:
    labels = profile.labels()[: ref.size]
    return FeatureDrift(
        name=profile.name,
        role=role,
        kind=profile.kind,
        status="ok",
        reason="",
        rows=n,
        missing=missing,
        psi=psi(ref, cur) if n else None,
        js=js_distance(ref, cur) if n else None,
        labels=tuple(labels),
        reference=tuple(float(v) for v in proportions(ref)),
        live=tuple(float(v) for v in proportions(cur)),
    )


def _numeric(
    profile: FeatureProfile, snapshot: WindowSnapshot, index: int, settings: DriftSettings
) -> _Signal:
    role = _role(profile.name)
    counts, column = snapshot.numeric_counts[index], snapshot.sample[:, index]
    ref, cur, n = _compared(profile, counts, role)
    missing = int(np.asarray(counts)[-1]) - snapshot.numeric_invalid[index]
    row = _base(profile, role, ref=ref, cur=cur, n=n, missing=missing)
    chi = chi2_homogeneity(ref, cur)
    values = column[np.isfinite(column)]
    evidence = [(chi.p_value, (row.psi or 0.0) >= settings.min_psi)]
    ks_stat = None
    if values.size >= MIN_KS_VALUES and profile.sample:
        ks = ks_2samp(np.asarray(profile.sample), values)
        ks_stat = ks.statistic
        evidence = [
            (2.0 * chi.p_value, evidence[0][1]),
            (2.0 * ks.p_value, ks_stat >= settings.min_effect),
        ]
    row = replace(
        row,
        invalid=snapshot.numeric_invalid[index],
        chi2=chi.statistic,
        dof=chi.dof,
        ks_stat=ks_stat,
    )
    return _Signal(row, n >= settings.min_samples, tuple(evidence))


def _categorical(
    profile: FeatureProfile, counts: npt.ArrayLike, settings: DriftSettings
) -> _Signal:
    role = _role(profile.name)
    ref, cur, n = _compared(profile, counts, role)
    row = _base(profile, role, ref=ref, cur=cur, n=n, missing=int(np.asarray(counts)[-1]))
    chi = chi2_homogeneity(ref, cur)
    row = replace(row, chi2=chi.statistic, dof=chi.dof)
    large = (row.psi or 0.0) >= settings.min_psi or (row.js or 0.0) >= settings.min_effect
    return _Signal(row, n >= settings.min_samples, ((chi.p_value, large),))


def _embedding(
    profile: EmbeddingProfile, snapshot: WindowSnapshot, settings: DriftSettings
) -> _Signal:
    """Mean-shift test (Box's approximation) plus KS on each fixed random projection."""
    n = snapshot.embedding_rows
    base = FeatureDrift(
        EMBEDDING, "embedding", "embedding", "ok", "", n, invalid=snapshot.embedding_invalid
    )
    if n == 0 or snapshot.embedding_sum is None:
        return _Signal(base, False, ())
    moved = embedding_shift(
        snapshot.embedding_sum / n,
        rows=n,
        centroid=np.asarray(profile.centroid),
        reference_rows=profile.rows,
        trace=profile.trace,
        trace_sq=profile.trace_sq,
    )
    reference = np.asarray(profile.sample, dtype=np.float64)
    live = snapshot.embedding_sample
    ks = (
        [ks_2samp(reference[:, k], live[:, k]) for k in range(reference.shape[1])]
        if live.size and reference.ndim == 2
        else []
    )
    evidence = [(2.0 * moved.p_value, moved.shift >= settings.min_effect)]
    evidence += [(2.0 * len(ks) * t.p_value, t.statistic >= settings.min_effect) for t in ks]
    row = replace(
        base,
        shift=moved.shift,
        cosine=moved.cosine,
        ks_stat=max((t.statistic for t in ks), default=None),
    )
    return _Signal(row, n >= settings.min_samples, tuple(evidence))
