"""Fixed-memory counters: histogram quantiles and moments, merging, stored form."""

from __future__ import annotations

import statistics

from bastion.routing.rollouts.stats import ArmStats, Histogram, ShadowCounters, merge_arms


def test_histogram_quantiles_are_within_a_bucket() -> None:
    hist = Histogram()
    values = [float(v) for v in range(1, 1001)]  # 1 … 1000 ms
    for v in values:
        hist.add(v)
    p50, p95 = hist.quantile(0.5), hist.quantile(0.95)
    assert p50 is not None and 500 <= p50 <= 500 * 1.25
    assert p95 is not None and 950 <= p95 <= 950 * 1.25
    assert abs(hist.mean - statistics.mean(values)) < 1e-9
    assert abs(hist.variance - statistics.variance(values)) < 1e-6
    assert Histogram().quantile(0.5) is None


def test_histogram_memory_is_fixed() -> None:
    hist = Histogram()
    size = len(hist.counts)
    for v in (0.0, 1e-9, 1e9, -5.0):
        hist.add(v)
    assert len(hist.counts) == size and hist.n == 4


def test_merge_equals_recording_everything_in_one() -> None:
    a, b, both = ArmStats(), ArmStats(), ArmStats()
    for i in range(50):
        target = a if i % 2 else b
        for s in (target, both):
            s.record(float(i), error=i % 7 == 0, confidences=[i / 50], low_below=0.3)
    merged = merge_arms([a, b])
    assert merged.to_dict() == both.to_dict()
    assert merged.error_rate == both.errors / 50
    assert ArmStats.from_dict(merged.to_dict()).to_dict() == merged.to_dict()


def test_arm_counts_low_confidence_only_on_answers() -> None:
    arm = ArmStats()
    arm.record(1.0, error=False, confidences=[0.2, 0.9, None], low_below=0.5)
    arm.record(1.0, error=True, confidences=[0.1], low_below=0.5)
    assert (arm.requests, arm.errors, arm.predictions, arm.low_confidence) == (2, 1, 2, 1)
    assert arm.low_confidence_rate == 0.5
    assert ArmStats().summary()["error_rate"] is None


def test_shadow_counters_round_trip_and_agreement() -> None:
    c = ShadowCounters(sampled=3, compared=4, agreed=3, errors=1)
    c.live.add(2.0)
    c.candidate.add(3.0)
    again = ShadowCounters.from_dict(c.to_dict())
    again.merge(c)
    assert again.compared == 8 and again.agreement == 0.75
    assert ShadowCounters().agreement is None
    assert again.summary()["candidate_error_rate"] == 1.0
