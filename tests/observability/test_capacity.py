"""The capacity formula, the histogram quantile, and the rolling rates of a LoadMeter."""

from __future__ import annotations

import math

from bastion.observability.capacity import CapacitySnapshot, histogram_quantile, recommend
from bastion.observability.load import LoadMeter, RateWindow
from bastion.settings.operations import CapacitySettings


def _snap(saturation: float, p95: float | None = 0.0, oldest: float = 0.0) -> CapacitySnapshot:
    return CapacitySnapshot(
        in_flight=0,
        capacity=64,
        saturation=saturation,
        queue_depth=0,
        queue_oldest_s=oldest,
        queue_wait_p95_s=p95,
        requests_per_s=0.0,
        tokens_per_s=0.0,
        window_s=0.0,
    )


def test_recommended_replicas_follow_the_documented_formula() -> None:
    cfg = CapacitySettings(target_saturation=0.5, max_queue_p95_s=0.1, max_replicas=10)
    assert recommend(_snap(0.5), cfg, replicas=4) == 4  # at target: stay
    assert recommend(_snap(1.0), cfg, replicas=4) == 8  # twice the target: double
    assert recommend(_snap(0.1), cfg, replicas=4) == 1  # ceil(0.8): scale in
    assert recommend(_snap(0.2, p95=0.5), cfg, replicas=4) == 5  # queue too slow: one more
    assert recommend(_snap(0.2, oldest=1.0), cfg, replicas=4) == 5
    assert recommend(_snap(9.0), cfg, replicas=4) == 10  # within max_replicas
    assert recommend(_snap(0.0), CapacitySettings(min_replicas=2), replicas=1) == 2


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    buckets = [(0.1, 50.0), (0.2, 90.0), (0.5, 100.0), (math.inf, 100.0)]
    assert histogram_quantile(0.5, buckets) == 0.1
    assert abs((histogram_quantile(0.95, buckets) or 0) - 0.35) < 1e-9
    assert histogram_quantile(0.95, [(0.1, 0.0), (math.inf, 0.0)]) is None
    assert histogram_quantile(0.99, [(0.1, 1.0), (math.inf, 10.0)]) == 0.1  # past the last le


def test_rates_come_from_the_oldest_snapshot_in_the_window() -> None:
    now = [100.0]
    meter = LoadMeter(clock=lambda: now[0])
    window = RateWindow(meter, every_s=5, keep_s=60, clock=lambda: now[0])
    now[0] = 110.0
    meter.completed, meter.tokens = 100, 1000
    rates = window.rates()
    assert (rates.requests_per_s, rates.tokens_per_s, rates.window_s) == (10.0, 100.0, 10.0)
    for step in range(1, 20):  # a steady 2 req/s for 95 s more: the old burst ages out
        now[0] = 110.0 + 5 * step
        meter.completed += 10
        window.rates()
    assert abs(window.rates().requests_per_s - 2.0) < 0.01
