from __future__ import annotations

import random

import numpy as np
import pytest

from bastion.monitoring import DriftSettings, ReferenceProfile, build_profile
from bastion.monitoring.merging import merge
from bastion.monitoring.stream import DriftStream
from bastion.monitoring.window import Layout, Window


def _profile(seed: int = 0) -> ReferenceProfile:
    rng = np.random.default_rng(seed)
    rows = [
        {"a": float(a), "b": float(b), "c": str(c)}
        for a, b, c in zip(
            rng.normal(size=2000),
            rng.uniform(size=2000),
            rng.choice(list("xyz"), 2000),
            strict=True,
        )
    ]
    return build_profile(
        rows, predictions=rng.normal(size=2000).tolist(), embeddings=rng.normal(size=(2000, 8))
    )


def _window(sample_size: int = 100, seed: int = 0) -> Window:
    layout = Layout.of(_profile())
    return Window(
        layout,
        start=0.0,
        end=3600.0,
        rng=random.Random(seed),
        sample_size=sample_size,
        embedding_sample_size=50,
    )


def test_a_million_rows_leave_the_stored_sizes_unchanged() -> None:
    window = _window(sample_size=100)
    rng = np.random.default_rng(1)
    rows = [
        {"a": float(a), "b": float(b), "c": c}
        for a, b, c in zip(rng.normal(size=1000), rng.uniform(size=1000), "xyzw" * 250, strict=True)
    ]
    vec = np.ones(8)
    for row in rows:
        window.observe(row, 0.5, None, vec)
    after_thousand = window.stored_sizes()
    nbytes = window.nbytes()
    for _ in range(999):
        for row in rows:
            window.observe(row, 0.5, None, None)
    assert window.rows == 1_000_000
    assert window.stored_sizes() == after_thousand
    assert window.nbytes() == nbytes < 10_000
    snap = window.snapshot()
    assert snap.sample.shape == (100, 3)  # a, b, the numeric prediction
    assert all(int(c.sum()) == 1_000_000 for c in snap.numeric_counts)
    assert all(int(c.sum()) == 1_000_000 for c in snap.categorical_counts)
    assert snap.embedding_rows == 1000 and snap.embedding_sample.shape == (50, 8)


def test_reservoir_is_a_uniform_sample_algorithm_r() -> None:
    means = []
    for seed in range(10):
        window = _window(sample_size=200, seed=seed)
        for i in range(10_000):
            window.observe({"a": float(i)}, None, None, None)
        sample = window.snapshot().sample[:, 0]
        assert len(np.unique(sample)) == 200
        means.append(sample.mean())
    # a uniform sample of 0..9,999 has mean ~5,000 (sd of one mean ~204; of 10 means ~65)
    assert abs(np.mean(means) - 4999.5) < 260


def test_same_rng_same_window() -> None:
    a, b = _window(seed=3), _window(seed=3)
    for i in range(5000):
        a.observe({"a": float(i), "c": "x"}, None, None, None)
        b.observe({"a": float(i), "c": "x"}, None, None, None)
    assert np.array_equal(a.snapshot().sample, b.snapshot().sample, equal_nan=True)


def test_windows_rotate_by_time_and_keep_the_last_n() -> None:
    now = [10.0]
    settings = DriftSettings(window_s=60.0, max_windows=3)
    stream = DriftStream(_profile(), settings, clock=lambda: now[0], rng=random.Random(0))
    for minute in range(6):
        now[0] = minute * 60.0 + 5.0
        for _ in range(10 + minute):
            stream.observe({"a": 0.1}, None, None, None)
    windows = stream.windows()
    assert len(windows) == 4  # the open one and three closed
    assert [w.rows for w in windows] == [15, 14, 13, 12]
    assert [w.start for w in windows] == [300.0, 240.0, 180.0, 120.0]
    merged = stream.snapshot(windows=3)
    assert merged.rows == 15 + 14 + 13 and merged.start == 180.0 and merged.end == 360.0
    assert stream.snapshot(windows=99).rows == 54


def test_windows_rotate_by_count() -> None:
    settings = DriftSettings(window_rows=100, max_windows=2)
    stream = DriftStream(_profile(), settings, clock=lambda: 5.0, rng=random.Random(0))
    for _ in range(450):
        stream.observe({"a": 0.1}, None, None, None)
    assert [w.rows for w in stream.windows()] == [50, 100, 100]


def test_merged_sample_stays_uniform_and_bounded() -> None:
    low, high = _window(sample_size=100, seed=1), _window(sample_size=100, seed=2)
    for _ in range(300):
        low.observe({"a": -1.0}, None, None, None)
    for _ in range(900):
        high.observe({"a": 1.0}, None, None, None)
    merged = merge(
        [low.snapshot(), high.snapshot()],
        np.random.default_rng(0),
        sample_size=100,
        embedding_sample_size=50,
    )
    column = merged.sample[:, 0]
    assert merged.rows == 1200 and column.size == 100
    assert (column > 0).mean() == pytest.approx(0.75, abs=0.15)


def test_a_row_read_once_counts_the_same_into_every_window_of_the_layout() -> None:
    """A deployment's and its tenant's windows share one reading of each row (monitor.py)."""
    rows = [
        {"a": 0.3, "b": 0.5, "c": "x"},
        {"a": np.float32(1.5), "b": "0.25", "c": 7},  # numpy number, numeric text, non-str
        {"a": None, "b": float("nan"), "c": None},  # missing
        {"a": "high", "b": float("inf"), "c": float("nan")},  # invalid
        {"a": -9, "c": "w"},  # an int; b absent; an unseen category
    ]
    alone, shared, other = _window(seed=3), _window(seed=3), _window(seed=5)
    for i, row in enumerate(rows * 40):
        prediction = [0.1, None, "x", float("nan"), 2][i % 5]
        alone.observe(row, prediction, None, None)
        reading = other.read(row, prediction, None)  # read by another window of the layout
        shared.count(reading)
    a, b = alone.snapshot(), shared.snapshot()
    assert a.rows == b.rows == 200
    for mine, theirs in zip(a.numeric_counts, b.numeric_counts, strict=True):
        assert mine.tolist() == theirs.tolist()
    assert a.numeric_invalid == b.numeric_invalid and sum(a.numeric_invalid) > 0
    assert [c.tolist() for c in a.categorical_counts] == [c.tolist() for c in b.categorical_counts]
    assert np.array_equal(a.sample, b.sample, equal_nan=True)
