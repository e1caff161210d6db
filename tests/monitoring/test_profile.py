from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from bastion.monitoring import DriftMonitor, DriftSettings, ReferenceProfile, build_profile
from bastion.monitoring.embedding import projection_directions
from bastion.monitoring.profile import profile_values
from bastion.monitoring.values import MISSING, OTHER


def _rows(n: int, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    return [
        {"amount": float(a), "items": int(i), "plan": str(p)}
        for a, i, p in zip(
            rng.lognormal(3, 1, n),
            rng.poisson(2, n),
            rng.choice(["free", "pro", "team"], n, p=[0.6, 0.3, 0.1]),
            strict=True,
        )
    ]


def test_json_round_trip_is_exact_compact_and_stable() -> None:
    rng = np.random.default_rng(0)
    rows = _rows(3000)
    profile = build_profile(
        rows,
        predictions=rng.choice(["yes", "no"], 3000).tolist(),
        confidences=rng.uniform(0.5, 1, 3000).tolist(),
        embeddings=rng.normal(size=(3000, 16)),
    )
    text = profile.to_json()
    assert ReferenceProfile.from_json(text) == profile
    assert ReferenceProfile.from_json(text.encode()).to_json() == text
    assert " " not in text and json.loads(text)["v"] == 1
    assert build_profile(rows).to_json() == build_profile(rows).to_json()  # deterministic
    assert len(text) < 200_000  # 2 numeric + 1 categorical feature, 16-d embeddings


def test_numeric_profile_has_quantile_bins_and_a_bounded_sample() -> None:
    settings = DriftSettings(bins=10, reference_sample=500)
    amount = build_profile(_rows(5000), settings=settings).features[0]
    assert amount.kind == "numeric" and len(amount.edges) == 9
    assert list(amount.edges) == sorted(amount.edges)
    shares = np.array(amount.counts[:-1]) / amount.rows
    assert np.allclose(shares, 0.1, atol=0.01)  # about equal-frequency bins
    assert len(amount.sample) == 500 and list(amount.sample) == sorted(amount.sample)
    assert amount.labels()[0].startswith("<") and amount.labels()[-1] == MISSING


def test_discrete_and_constant_features_get_deduplicated_bins() -> None:
    items = build_profile(_rows(5000)).features[1]
    assert items.kind == "numeric"
    assert len(set(items.edges)) == len(items.edges) < 9
    assert all(c > 0 for c in items.counts[:-1])  # no empty bin below the minimum
    constant = profile_values("c", [3.0] * 100)
    assert constant.edges[0] == 3.0 and len(constant.edges) == 2
    assert constant.counts == (0, 100, 0, 0)


def test_categorical_keeps_top_k_and_folds_the_rest_into_other() -> None:
    values = [f"v{i % 80}" for i in range(8000)] + ["v0"] * 100
    f = profile_values("code", values, settings=DriftSettings(top_k=50))
    assert f.kind == "categorical" and len(f.categories) == 50
    assert f.categories[0] == "v0"
    assert f.counts[-2] == 30 * 100  # __other__
    assert f.labels()[-2:] == [OTHER, MISSING]


def test_missing_values_nan_and_none_are_counted_as_missing() -> None:
    f = profile_values("x", [1.0, None, float("nan"), 2.0, np.float64("nan"), 3.0])
    assert f.kind == "numeric" and f.counts[-1] == 3 and f.rows == 6
    c = profile_values("y", ["a", None, float("nan"), "b"])
    assert c.kind == "categorical" and c.counts[-1] == 2


def test_bools_and_strings_make_a_feature_categorical() -> None:
    assert profile_values("flag", [True, False, True]).kind == "categorical"
    assert profile_values("mixed", [1, "two", 3.0]).kind == "categorical"
    assert profile_values("n", [1, 2, None, 3.5]).kind == "numeric"


def test_unseen_categories_and_missing_values_in_live_traffic() -> None:
    profile = build_profile(_rows(2000))
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.set_reference("d", 1, profile)
    live: list[dict[str, object]] = [
        {"amount": None, "items": float("nan"), "plan": "enterprise"},
        {"amount": "oops", "items": math.inf, "plan": None},
        {"amount": 12.5, "items": 2, "plan": float("nan")},
        {"items": 1, "plan": 7},
    ]
    for row in live:
        monitor.observe("d", 1, row)
    report = monitor.report("d")
    amount, items, plan = report.features
    assert (amount.missing, amount.invalid) == (2, 1)
    assert (items.missing, items.invalid) == (1, 1)
    assert plan.missing == 2
    other = plan.labels.index(OTHER)
    assert plan.live[other] == pytest.approx(0.5)  # "enterprise" and 7
    assert report.status == "insufficient_data"


def test_projection_directions_are_fixed_and_unit_length() -> None:
    d = projection_directions(384, 8, seed=0)
    assert d.shape == (384, 8)
    assert np.allclose(np.linalg.norm(d, axis=0), 1.0)
    assert np.array_equal(d, projection_directions(384, 8, seed=0))
    assert np.abs(d.T @ d - np.eye(8)).max() < 0.25  # nearly orthogonal
    assert not np.array_equal(d, projection_directions(384, 8, seed=1))


def test_embedding_profile_traces_match_the_covariance() -> None:
    rng = np.random.default_rng(3)
    scales = np.linspace(0.5, 2.0, 12)
    x = rng.normal(size=(4000, 12)) * scales + 1.0
    emb = build_profile([{}] * 4000, embeddings=x).embedding
    assert emb is not None and emb.dim == 12 and emb.rows == 4000
    assert emb.trace == pytest.approx((scales**2).sum(), rel=0.05)
    assert emb.trace_sq == pytest.approx((scales**4).sum(), rel=0.1)
    assert np.allclose(emb.centroid, 1.0, atol=0.1)
