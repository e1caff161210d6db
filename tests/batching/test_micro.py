import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from bastion.backends.base import Prediction
from bastion.batching import MicroBatcher


class Recorder:
    """A fake model that doubles numbers, records batch sizes, and fails on 'bad'."""

    def __init__(self, delay: float = 0.01) -> None:
        self.calls: list[int] = []
        self.delay = delay
        self.closed = False

    async def load(self) -> None:
        pass

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        self.calls.append(len(inputs))
        await asyncio.sleep(self.delay)
        if "bad" in inputs:
            raise ValueError("bad input in batch")
        return [Prediction(x * 2) for x in inputs]

    async def aclose(self) -> None:
        self.closed = True


async def test_single_request_goes_at_once() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=8)
    assert [p.output for p in await batcher.infer([1, 2])] == [2, 4]
    assert model.calls == [2]
    await batcher.aclose()
    assert model.closed


async def test_concurrent_requests_are_merged_and_each_gets_its_own() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=16)
    results = await asyncio.gather(*(batcher.infer([i, i + 100]) for i in range(20)))
    for i, preds in enumerate(results):
        assert [p.output for p in preds] == [2 * i, 2 * (i + 100)]
    assert len(model.calls) < 20
    assert max(model.calls) <= 16
    assert sum(model.calls) == 40
    await batcher.aclose()


async def test_a_failing_item_fails_only_its_request() -> None:
    model = Recorder()
    batcher = MicroBatcher(model, max_batch=16)
    outcomes = await asyncio.gather(
        batcher.infer([1]),
        batcher.infer([2]),
        batcher.infer(["bad"]),
        batcher.infer([3]),
        return_exceptions=True,
    )
    assert [p.output for p in outcomes[0]] == [2]  # type: ignore[union-attr]
    assert isinstance(outcomes[2], ValueError)
    assert [p.output for p in outcomes[3]] == [6]  # type: ignore[union-attr]
    await batcher.aclose()


async def test_cancelled_callers_are_skipped() -> None:
    model = Recorder(delay=0.05)
    batcher = MicroBatcher(model, max_batch=16)
    first = asyncio.create_task(batcher.infer([1]))
    await asyncio.sleep(0.01)
    doomed = asyncio.create_task(batcher.infer([2]))
    await asyncio.sleep(0)
    doomed.cancel()
    survivor = await batcher.infer([3])
    assert [p.output for p in survivor] == [6]
    assert [p.output for p in await first] == [2]
    assert sum(model.calls) == 2
    with pytest.raises(asyncio.CancelledError):
        await doomed
    await batcher.aclose()


async def test_max_wait_gathers_a_fuller_batch() -> None:
    model = Recorder(delay=0.0)
    batcher = MicroBatcher(model, max_batch=64, max_wait_s=0.02)

    async def later(i: int) -> list[Prediction]:
        await asyncio.sleep(0.001 * i)
        return await batcher.infer([i])

    await asyncio.gather(*(later(i) for i in range(5)))
    assert len(model.calls) <= 2
    await batcher.aclose()
