"""Reference profiles: what a version's inputs and outputs looked like when it was trusted."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from bastion.monitoring.config import DriftSettings
from bastion.monitoring.embedding import EmbeddingProfile, profile_embeddings
from bastion.monitoring.values import MISSING, OTHER, as_float, category_key, is_missing, round_sig

Kind = Literal["numeric", "categorical"]
FloatArray = npt.NDArray[np.float64]

PREDICTION = "__prediction__"
CONFIDENCE = "__confidence__"
EMBEDDING = "__embedding__"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class FeatureProfile:
    """One feature's reference distribution.

    Numeric: ``edges`` are the interior bin edges taken from reference quantiles (the outer bins
    are open-ended), ``counts`` the reference count per bin, and ``sample`` a sorted, fixed-size,
    deterministic sample of the reference values for the KS test. Categorical: ``categories``
    are the top-K reference categories and ``counts`` their counts followed by ``__other__``.
    In both, the last count is the ``__missing__`` bin (missing or invalid values).
    """

    name: str
    kind: Kind
    counts: tuple[int, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    sample: tuple[float, ...] = ()

    @property
    def rows(self) -> int:
        return sum(self.counts)

    def labels(self) -> list[str]:
        """A display label per count, in order."""
        if self.kind == "categorical":
            return [*self.categories, OTHER, MISSING]
        bounds = [f"{e:.4g}" for e in self.edges]
        if not bounds:
            return ["all", MISSING]
        return [
            f"<{bounds[0]}",
            *(f"{a}..{b}" for a, b in itertools.pairwise(bounds)),
            f">={bounds[-1]}",
            MISSING,
        ]


@dataclass(frozen=True, slots=True)
class ReferenceProfile:
    """A version's reference: its features, predictions, confidences and embeddings."""

    features: tuple[FeatureProfile, ...]
    prediction: FeatureProfile | None = None
    confidence: FeatureProfile | None = None
    embedding: EmbeddingProfile | None = None

    def to_json(self) -> str:
        """Compact and stable: sorted keys, no spaces, rounded floats."""
        doc = {
            "v": FORMAT_VERSION,
            "features": [_feature_doc(f) for f in self.features],
            "prediction": _feature_doc(self.prediction) if self.prediction else None,
            "confidence": _feature_doc(self.confidence) if self.confidence else None,
            "embedding": self.embedding.to_doc() if self.embedding else None,
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ReferenceProfile:
        doc = json.loads(text)
        if doc.get("v") != FORMAT_VERSION:
            raise ValueError(f"unsupported reference profile format {doc.get('v')!r}")
        emb = doc.get("embedding")
        return cls(
            features=tuple(_feature_from(f) for f in doc["features"]),
            prediction=_feature_from(doc["prediction"]) if doc.get("prediction") else None,
            confidence=_feature_from(doc["confidence"]) if doc.get("confidence") else None,
            embedding=EmbeddingProfile.from_doc(emb) if emb else None,
        )


def build_profile(
    rows: Sequence[Mapping[str, Any]],
    *,
    predictions: Sequence[Any] | None = None,
    confidences: Sequence[Any] | None = None,
    embeddings: Sequence[Sequence[float]] | npt.ArrayLike | None = None,
    settings: DriftSettings | None = None,
    kinds: Mapping[str, Kind] | None = None,
    prediction_kind: Kind | None = None,
    seed: int = 0,
) -> ReferenceProfile:
    """Profile reference rows (training data or a baseline window); deterministic for a seed."""
    cfg = settings or DriftSettings()
    names = list(dict.fromkeys(name for row in rows for name in row))
    kinds = kinds or {}
    features = tuple(
        profile_values(n, [r.get(n) for r in rows], kinds.get(n), settings=cfg, seed=seed)
        for n in names
    )
    pred = None
    if predictions:
        pred = profile_values(PREDICTION, predictions, prediction_kind, settings=cfg, seed=seed)
    conf = (
        profile_values(CONFIDENCE, confidences, "numeric", settings=cfg, seed=seed)
        if confidences
        else None
    )
    emb = None
    if embeddings is not None and len(matrix := np.asarray(embeddings, dtype=np.float64)):
        emb = profile_embeddings(matrix, settings=cfg, seed=seed)
    return ReferenceProfile(features, pred, conf, emb)


def profile_values(
    name: str,
    values: Sequence[Any],
    kind: Kind | None = None,
    *,
    settings: DriftSettings | None = None,
    seed: int = 0,
) -> FeatureProfile:
    """Profile one column; its kind is inferred when not given (numbers, not bools: numeric)."""
    cfg = settings or DriftSettings()
    kind = kind or infer_kind(values)
    if kind == "categorical":
        return _categorical(name, values, cfg.top_k)
    arr = np.fromiter((as_float(v) for v in values), dtype=np.float64, count=len(values))
    valid = arr[np.isfinite(arr)]
    edges = np.zeros(0)
    if valid.size:
        qs = np.quantile(valid, np.linspace(0.0, 1.0, cfg.bins + 1)[1:-1])
        edges = np.unique([round_sig(q, 9) for q in qs])
        edges = edges[edges > valid.min()]
        if not edges.size:  # a constant: bins below, at and above it
            low = float(valid.min())
            edges = np.array([low, round_sig(low + max(abs(low), 1.0) * 1e-6, 9)])
    counts = np.bincount(np.searchsorted(edges, valid, side="right"), minlength=edges.size + 1)
    sample = valid
    if valid.size > cfg.reference_sample:
        rng = np.random.default_rng(seed)
        sample = valid[rng.choice(valid.size, cfg.reference_sample, replace=False)]
    return FeatureProfile(
        name=name,
        kind="numeric",
        counts=(*(int(c) for c in counts), int(arr.size - valid.size)),
        edges=tuple(float(e) for e in edges),
        sample=tuple(round_sig(v, 6) for v in np.sort(sample)),
    )


def infer_kind(values: Sequence[Any]) -> Kind:
    present = [v for v in values if not is_missing(v)]
    numeric = all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in present
    )
    return "numeric" if present and numeric else "categorical"


def _categorical(name: str, values: Sequence[Any], top_k: int) -> FeatureProfile:
    counter = Counter(category_key(v) for v in values if not is_missing(v))
    top = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    kept = sum(c for _, c in top)
    missing = len(values) - counter.total()
    return FeatureProfile(
        name=name,
        kind="categorical",
        counts=(*(c for _, c in top), counter.total() - kept, missing),
        categories=tuple(k for k, _ in top),
    )


def _feature_doc(f: FeatureProfile) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": f.name, "kind": f.kind, "counts": list(f.counts)}
    if f.kind == "numeric":
        doc |= {"edges": list(f.edges), "sample": list(f.sample)}
    else:
        doc["categories"] = list(f.categories)
    return doc


def _feature_from(doc: Mapping[str, Any]) -> FeatureProfile:
    return FeatureProfile(
        name=str(doc["name"]),
        kind="numeric" if doc["kind"] == "numeric" else "categorical",
        counts=tuple(int(c) for c in doc["counts"]),
        edges=tuple(float(e) for e in doc.get("edges", ())),
        categories=tuple(str(c) for c in doc.get("categories", ())),
        sample=tuple(float(v) for v in doc.get("sample", ())),
    )
