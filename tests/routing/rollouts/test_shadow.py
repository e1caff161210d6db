"""Output agreement rules and the shadow runner's bounds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bastion.backends.base import Prediction
from bastion.errors import BastionError
from bastion.pipeline import Call, Result
from bastion.routing.rollouts.shadow import ShadowJob, ShadowRunner, agree
from bastion.routing.rollouts.stats import ShadowCounters


@pytest.mark.parametrize(
    ("live", "candidate", "same"),
    [
        ({"label": "a", "p": 0.9}, {"label": "a", "p": 0.4}, True),
        ({"label": "a"}, {"label": "b"}, False),
        (1.0, 1.0 + 1e-9, True),
        (1.0, 1.1, False),
        ([1, 2, 3], [1, 2, 3.0000000001], True),
        ([1, 2], [1, 2, 3], False),
        ({"x": 1}, {"y": 1}, False),
        ("yes", "yes", True),
        (True, 1, False),
        ({"embedding": [0.1, 0.2]}, {"embedding": [0.1, 0.2 + 1e-12]}, True),
    ],
)
def test_agreement_rules(live: Any, candidate: Any, same: bool) -> None:
    assert agree(live, candidate, 1e-6) is same


class _Target:
    """A loaded candidate (the edge: whatever model runs behind it)."""

    def __init__(self, gate: asyncio.Event | None = None, fail: bool = False) -> None:
        self.gate, self.fail, self.calls = gate, fail, 0

    def check_inputs(self, inputs: list[Any], *, batched: bool) -> None:
        return None

    async def run(self, call: Call) -> Result:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise BastionError("candidate failed")
        return Result(call.deployment, "m", 2, [Prediction({"label": "a"}) for _ in call.inputs])


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)


def _job(i: int) -> ShadowJob:
    return ShadowJob("d", "m", 2, "v2", f"r{i}", [1, 2], True, [{"label": "a"}, 0], 1.0, 1e-6, 5)


async def test_runner_bounds_work_and_never_blocks_submit() -> None:
    gate = asyncio.Event()
    target = _Target(gate)
    counters = ShadowCounters()

    async def load(deployment: str, version: int) -> Any:
        return target

    runner = ShadowRunner(load, lambda job: counters, concurrency=2, queue_size=3)
    accepted = [runner.submit(_job(i)) for i in range(5)]  # no await: submit never waits
    assert accepted == [True, True, True, False, False]
    await asyncio.wait_for(_until(lambda: target.calls == 2), 10)  # both workers took a job
    assert target.calls == 2 and counters.dropped == 2
    gate.set()
    await runner.drained()
    assert counters.sampled == 5 and counters.compared == 6 and counters.agreed == 3
    await runner.aclose()


async def test_runner_counts_candidate_errors_and_keeps_going() -> None:
    counters = ShadowCounters()
    target = _Target(fail=True)

    async def load(deployment: str, version: int) -> Any:
        return target

    runner = ShadowRunner(load, lambda job: counters, concurrency=1, queue_size=10)
    for i in range(3):
        runner.submit(_job(i))
    await runner.drained()
    assert counters.errors == 3 and counters.compared == 0 and counters.candidate.n == 3
    await runner.aclose()
