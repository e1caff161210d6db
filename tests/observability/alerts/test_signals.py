"""SignalRecorder: fixed memory, whole-bucket windows, server-side errors only, p95."""

from __future__ import annotations

import pytest

from bastion.core.clock import FakeClock
from bastion.observability.alerts.signals import SignalRecorder, WindowStats, client_error_types


def _recorder(clock: FakeClock, **kw: int) -> SignalRecorder:
    return SignalRecorder(bucket_s=10, buckets=kw.pop("buckets", 6), clock=clock.now, **kw)


def test_counts_requests_errors_fallbacks_and_cost_per_window() -> None:
    clock = FakeClock(start=1000)
    rec = _recorder(clock)
    rec.record("a", 0.02)
    rec.record("a", 0.02, "internal_error", cost_usd=0.5)
    rec.record("a", 0.02, "timeout", fallback=True, cost_usd=0.25)
    rec.record("b", 0.02)
    stats = rec.window("a", 10)
    assert (stats.requests, stats.errors, stats.fallbacks) == (3, 2, 1)
    assert stats.cost_usd == pytest.approx(0.75)
    assert stats.error_rate == pytest.approx(2 / 3)
    assert rec.window("b", 10).requests == 1
    assert rec.window("nobody", 10) == WindowStats(0, 0, 0, 0.0, (0,) * 16)


def test_client_errors_are_requests_but_not_errors() -> None:
    clock = FakeClock()
    rec = _recorder(clock)
    for kind in ("invalid_request", "rate_limited", "unauthorized", "budget_exceeded"):
        rec.record("a", 0.01, kind)
    rec.record("a", 0.01, "upstream_error")
    rec.record("a", 0.01, "something_new")  # unknown types are the server's to explain
    stats = rec.window("a", 10)
    assert (stats.requests, stats.errors) == (6, 2)
    assert "timeout" not in client_error_types() and "not_found" in client_error_types()


def test_windows_cover_whole_buckets_and_old_buckets_fall_out() -> None:
    clock = FakeClock(start=1000)
    rec = _recorder(clock)
    rec.record("a", 0.01, "internal_error")
    clock.advance(10)
    rec.record("a", 0.01)
    # a bucket just begun does not empty a window: it covers at least the last 10 s
    assert rec.window("a", 10).requests == 2
    assert rec.window("a", 20).requests == 2
    clock.advance(5)
    assert rec.window("a", 5).requests == 1  # the current bucket covers the last 5 s
    assert rec.window("a", 10).requests == 2
    assert rec.window("a", 5, offset_s=5).errors == 1  # the bucket before, not overlapping
    assert rec.window("a", 5, offset_s=5).requests == 1
    clock.advance(55)  # the ring (6 x 10 s) has wrapped: nothing left
    assert rec.window("a", 60).requests == 0
    rec.record("a", 0.01)
    assert rec.window("a", 60).requests == 1  # a reused slot starts from zero


def test_memory_is_bounded_by_deployments_and_buckets() -> None:
    clock = FakeClock()
    rec = SignalRecorder(bucket_s=1, buckets=4, max_deployments=2, clock=clock.now)
    for name in ("a", "b", "c"):
        rec.record(name, 0.01)
    assert rec.deployments() == ["b", "c"]  # the least recently recorded went
    before = rec.nbytes()
    for _ in range(10_000):
        rec.record("b", 0.01)
        clock.advance(0.01)
    assert rec.nbytes() == before


def test_p95_interpolates_inside_the_histogram_bucket() -> None:
    clock = FakeClock()
    rec = _recorder(clock)
    for _ in range(90):
        rec.record("a", 0.004)  # (0.0025, 0.005]
    for _ in range(10):
        rec.record("a", 0.4)  # (0.25, 0.5]
    p95 = rec.window("a", 10).latency_quantile(0.95)
    assert p95 is not None and 0.25 < p95 <= 0.5
    assert rec.window("a", 10).latency_quantile(0.5) == pytest.approx(0.0025 + 0.0025 * 50 / 90)
    assert rec.window("b", 10).latency_quantile(0.95) is None
    rec.record("slow", 500.0)  # beyond the last bound
    assert rec.window("slow", 10).latency_quantile(0.95) == 60.0
