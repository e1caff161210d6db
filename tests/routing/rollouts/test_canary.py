"""The canary step decision on a fake clock, and the request split by stable hash."""

from __future__ import annotations

from datetime import timedelta

from bastion.routing.rollouts.canary import decide, takes_canary
from bastion.routing.rollouts.config import CanaryPlan, SloPlan
from bastion.routing.rollouts.entities import CanaryRun
from bastion.routing.rollouts.stats import ArmStats
from tests.routing.rollouts.conftest import FakeClock


def _run(clock: FakeClock, step: int = 0, traffic: float = 10.0) -> CanaryRun:
    plan = CanaryPlan(
        steps=(10.0, 50.0, 100.0),
        step_s=60,
        min_requests=20,
        max_latency_increase=None,
        slo=SloPlan(max_error_rate=0.1),
    )
    return CanaryRun(
        1,
        "d",
        "m",
        2,
        1,
        "canary",
        "running",
        step,
        traffic,
        plan,
        "t",
        "",
        clock(),
        clock(),
        None,
    )


def _arm(requests: int, errors: int = 0) -> ArmStats:
    arm = ArmStats()
    for i in range(requests):
        arm.record(5.0, error=i < errors)
    return arm


def test_waits_for_enough_canary_requests() -> None:
    clock = FakeClock()
    clock.advance(3600)
    d = decide(_run(FakeClock()), _arm(19, 19), _arm(200), clock())
    assert d.action == "wait" and "19/20" in d.reason


def test_breach_rolls_back_without_waiting_for_the_step() -> None:
    clock = FakeClock()
    d = decide(_run(clock), _arm(20, 5), _arm(200), clock())
    assert d.action == "rollback" and "error_rate" in d.reason
    assert d.details()["checks"][0]["ok"] is False


def test_healthy_step_holds_then_advances_then_promotes() -> None:
    clock = FakeClock()
    run = _run(clock)
    assert decide(run, _arm(30), _arm(300), clock()).action == "wait"
    clock.advance(60)
    assert decide(run, _arm(30), _arm(300), clock()).action == "advance"
    last = _run(FakeClock(), step=2, traffic=100.0)
    later = FakeClock()
    later.now += timedelta(seconds=61)
    assert decide(last, _arm(30), ArmStats(), later()).action == "promote"


def test_split_follows_the_step_and_is_deterministic() -> None:
    clock = FakeClock()
    run = _run(clock)
    picked = [takes_canary(run, f"req-{i}") for i in range(10_000)]
    assert 0.08 < sum(picked) / len(picked) < 0.12
    assert picked[:50] == [takes_canary(run, f"req-{i}") for i in range(50)]
    full = _run(clock, step=2, traffic=100.0)
    assert all(takes_canary(full, f"req-{i}") for i in range(100))
