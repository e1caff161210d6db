from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from bastion.errors import NotFound
from bastion.monitoring import DriftMonitor, DriftSettings, ReferenceProfile, build_profile


def _profile(seed: int = 0, dim: int = 0) -> ReferenceProfile:
    rng = np.random.default_rng(seed)
    rows = [
        {"x": float(v), "k": str(k)}
        for v, k in zip(rng.normal(size=2000), rng.choice(list("abc"), 2000), strict=True)
    ]
    embeddings = _cloud(rng, 2000, dim) if dim else None
    return build_profile(rows, embeddings=embeddings)


def _cloud(rng: np.random.Generator, n: int, dim: int, shift: float = 0.0) -> np.ndarray:
    """Normalised vectors around a fixed direction, like sentence embeddings of one topic."""
    base = np.ones(dim) / np.sqrt(dim)
    moved = base.copy()
    moved[0] += shift
    x = moved + rng.normal(0.0, 0.08, size=(n, dim))
    normalised: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return normalised


def test_unknown_versions_are_ignored_and_not_reported() -> None:
    monitor = DriftMonitor()
    assert monitor.observe("nope", 1, {"x": 1.0}) is False
    with pytest.raises(NotFound):
        monitor.report("nope")


def test_report_defaults_to_the_latest_reference_and_versions_stay_apart() -> None:
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.set_reference("d", 1, _profile(1))
    monitor.set_reference("d", 2, _profile(2))
    rng = np.random.default_rng(3)
    for v in rng.normal(2.0, 1.0, 300).tolist():
        monitor.observe("d", 1, {"x": v, "k": "a"})
    for v in rng.normal(0.0, 1.0, 300).tolist():
        monitor.observe("d", 2, {"x": v, "k": str(rng.choice(list("abc")))})
    assert monitor.report("d").version == 2
    assert monitor.report("d").status == "ok"
    assert set(monitor.report("d", 1).drifted()) == {"x", "k"}


def test_memory_is_bounded_across_deployments() -> None:
    settings = DriftSettings(max_streams=3, max_windows=2)
    monitor = DriftMonitor(settings, clock=lambda: 0.0, rng=random.Random(0))
    profile = _profile()
    for i in range(10):
        monitor.set_reference(f"dep{i}", 1, profile)
        monitor.observe(f"dep{i}", 1, {"x": 0.0})
    assert monitor.monitored() == [("dep7", 1), ("dep8", 1), ("dep9", 1)]
    assert monitor.observe("dep0", 1, {"x": 0.0}) is False
    one = monitor.nbytes() / 3
    for i in range(7, 10):
        for _ in range(5000):
            monitor.observe(f"dep{i}", 1, {"x": 0.5, "k": "b"})
    assert monitor.nbytes() == pytest.approx(3 * one)


def test_a_baseline_from_live_traffic_becomes_the_reference() -> None:
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.start_baseline("live", 4, rows=500)
    rng = np.random.default_rng(5)
    for v in rng.normal(10.0, 2.0, 499).tolist():
        monitor.observe("live", 4, {"x": v}, prediction="yes")
    with pytest.raises(NotFound, match="baseline"):
        monitor.report("live")
    monitor.observe("live", 4, {"x": 10.0}, prediction="yes")
    reference = monitor.reference("live", 4)
    assert reference is not None and reference.features[0].rows == 500
    for v in rng.normal(12.0, 2.0, 400).tolist():
        monitor.observe("live", 4, {"x": v}, prediction="yes")
    assert monitor.report("live").drifted() == ["x"]


def test_embedding_drift_is_found_and_quiet_without_it() -> None:
    rng = np.random.default_rng(6)
    dim = 32
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.set_reference("emb", 1, _profile(6, dim))
    monitor.set_reference("emb", 2, _profile(6, dim))
    for vec in _cloud(rng, 400, dim):
        monitor.observe("emb", 1, {}, embedding=vec)
    for vec in _cloud(rng, 400, dim, shift=0.2):
        monitor.observe("emb", 2, {}, embedding=vec)
    quiet, moved = monitor.report("emb", 1).embedding, monitor.report("emb", 2).embedding
    assert quiet is not None and quiet.status == "ok" and quiet.rows == 400
    assert moved is not None and moved.status == "drift"
    assert moved.shift is not None and moved.shift > 0.3
    assert moved.cosine is not None and moved.cosine > quiet.cosine  # type: ignore[operator]
    monitor.observe("emb", 1, {}, embedding=[1.0, 2.0])  # wrong size: counted, not crashing
    assert monitor.report("emb", 1).embedding.invalid == 1  # type: ignore[union-attr]


def test_observe_and_report_from_several_threads() -> None:
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.set_reference("t", 1, _profile())
    errors: list[BaseException] = []

    def feed(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for v in rng.normal(size=3000).tolist():
                monitor.observe("t", 1, {"x": v, "k": "a"})
                if v > 2.5:
                    monitor.report("t")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert monitor.report("t").rows == 12_000


def test_a_tiny_embedding_shift_on_a_huge_window_is_ok() -> None:
    rng = np.random.default_rng(8)
    dim = 16
    settings = DriftSettings(window_sample=200, embedding_sample=64)  # noisy reservoirs on purpose
    monitor = DriftMonitor(settings, clock=lambda: 0.0, rng=random.Random(0))
    reference = build_profile([{}] * 50_000, embeddings=_cloud(rng, 50_000, dim))
    monitor.set_reference("emb", 1, reference)
    for vec in _cloud(rng, 100_000, dim, shift=0.01):
        monitor.observe("emb", 1, {}, embedding=vec)
    emb = monitor.report("emb").embedding
    assert emb is not None and emb.p_adjusted is not None and emb.p_adjusted < 1e-3
    assert emb.shift is not None and emb.shift < 0.1
    assert emb.status == "ok"


def test_an_empty_window_reports_no_statistics() -> None:
    now = [0.0]
    monitor = DriftMonitor(clock=lambda: now[0], rng=random.Random(0))
    monitor.set_reference("d", 1, _profile())
    report = monitor.report("d")
    assert report.status == "insufficient_data" and report.rows == 0 and report.tests == 0
    assert all(f.psi is None and f.js is None for f in report.features)
    assert "insufficient_data" in report.to_text()


def test_a_tenant_sees_its_own_traffics_drift_on_a_shared_deployment() -> None:
    monitor = DriftMonitor(clock=lambda: 0.0, rng=random.Random(0))
    monitor.set_reference("shared", 1, _profile(1))
    rng = np.random.default_rng(4)
    for v in rng.normal(0.0, 1.0, 600).tolist():  # acme's traffic looks like the reference
        monitor.observe("shared", 1, {"x": v, "k": str(rng.choice(list("abc")))}, tenant="acme")
    for v in rng.normal(3.0, 1.0, 600).tolist():  # beta's has moved
        monitor.observe("shared", 1, {"x": v, "k": "a"}, tenant="beta")
    assert monitor.report("shared", 1, tenant="acme").status == "ok"
    assert set(monitor.report("shared", 1, tenant="beta").drifted()) == {"x", "k"}
    assert monitor.report("shared", 1).status == "drift"  # everyone's traffic together
    assert monitor.report("shared", 1, tenant="nobody").status == "insufficient_data"
