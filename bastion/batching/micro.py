"""Adaptive micro-batching: concurrent calls to one in-process model share one backend call."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from bastion.backends.base import Backend, Prediction

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Pending:
    inputs: Sequence[Any]
    future: asyncio.Future[list[Prediction]]


class MicroBatcher:
    """A Backend wrapper that merges concurrent ``infer`` calls.

    Adaptive: when the model is idle a request goes at once (no added latency at low load);
    while a batch runs, new requests queue and leave together as the next batch, up to
    ``max_batch`` items. ``max_wait_s`` optionally holds a non-full batch a little longer.
    Each caller gets back exactly its own predictions. If a merged batch fails, its requests
    are retried one by one so that only the request that broke it sees the error.
    """

    def __init__(self, backend: Backend, *, max_batch: int = 32, max_wait_s: float = 0.0) -> None:
        self._backend = backend
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self.batches = 0  # how many backend calls were made (for metrics and tests)
        self.items = 0

    async def load(self) -> None:
        await self._backend.load()

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._backend.aclose()

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._run())
        future: asyncio.Future[list[Prediction]] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(inputs, future))
        self._wakeup.set()
        return await future

    def _take(self) -> list[_Pending]:
        batch: list[_Pending] = []
        size = 0
        while self._queue:
            nxt = self._queue[0]
            if nxt.future.done():  # the caller gave up (cancelled): skip it
                self._queue.popleft()
                continue
            if batch and size + len(nxt.inputs) > self._max_batch:
                break
            batch.append(self._queue.popleft())
            size += len(nxt.inputs)
        return batch

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                if (
                    self._max_wait_s > 0
                    and sum(len(p.inputs) for p in self._queue) < self._max_batch
                ):
                    await asyncio.sleep(self._max_wait_s)
                batch = self._take()
                if batch:
                    await self._dispatch(batch)

    async def _dispatch(self, batch: list[_Pending]) -> None:
        flat = [item for p in batch for item in p.inputs]
        self.batches += 1
        self.items += len(flat)
        try:
            predictions = await self._backend.infer(flat)
        except Exception as exc:
            if len(batch) == 1:
                _fail(batch[0], exc)
                return
            log.info("batch_failed_retrying_singly", requests=len(batch), error=str(exc))
            for pending in batch:
                await self._dispatch([pending])
            return
        if len(predictions) != len(flat):
            err = RuntimeError(
                f"backend returned {len(predictions)} results for {len(flat)} inputs"
            )
            for pending in batch:
                _fail(pending, err)
            return
        start = 0
        for pending in batch:
            end = start + len(pending.inputs)
            if not pending.future.done():
                pending.future.set_result(predictions[start:end])
            start = end


def _fail(pending: _Pending, exc: BaseException) -> None:
    if not pending.future.done():
        pending.future.set_exception(exc)
