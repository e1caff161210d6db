"""Running one job: every chunk not yet in the ledger is scored, made durable and recorded.

The order that makes a job exactly-once under kill -9 at any instant:

1. on (re)start, usage rows of chunks the ledger does not hold are deleted (their calls
   will run again, and be charged again);
2. a chunk's calls run; the usage log is flushed, so their charges are durable;
3. the chunk's part files are written (atomically);
4. the chunk is recorded in the ledger (one transaction, with the job's counters).

A death before 4 re-runs the chunk and its part is overwritten; after 4 the chunk is never
run again. The output is assembled from the recorded chunks' parts only.

Chunks overlap: the next chunk is read (in a thread) and scored while the previous one goes
through steps 2–4, which still run for one chunk at a time, in order. A usage row of a
chunk being scored may be flushed with the previous chunk's; if the process dies before
that chunk is recorded, step 1 deletes it on restart like any other orphan.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import structlog

from bastion.jobs.entities import Chunk, ChunkResult, Job
from bastion.jobs.ledger import JobLedger
from bastion.jobs.outputs import JobFiles
from bastion.jobs.scorer import ChunkScorer

log = structlog.get_logger(__name__)
ChunkSource = Callable[[Job, JobFiles], Iterator[Chunk]]


class JobRunner:
    """Drives one job to its end (or to a cancel, a halt, or the loss of its lease)."""

    def __init__(
        self,
        ledger: JobLedger,
        scorer: ChunkScorer,
        *,
        owner: str,
        lease_s: float,
        flush_usage: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self._ledger = ledger
        self._scorer = scorer
        self._owner = owner
        self._lease_s = lease_s
        self._flush_usage = flush_usage

    async def run(
        self,
        job: Job,
        principal: Any,
        files: JobFiles,
        source: ChunkSource,
        finish: Callable[[JobFiles], None] | None = None,
    ) -> str:
        """Score every unrecorded chunk; returns the job's final status.

        ``finish`` (e.g. a backfill's report) runs on the assembled output before the job
        is marked succeeded, so a succeeded job's files are all there when it is read.
        """
        done = await self._ledger.done_chunks(job.id)
        forgotten = await self._ledger.forget_unrecorded_usage(job.id, done)
        await self._ledger.set_status(job.id, "running")
        log.info("job_started", job=job.id, resumed_chunks=len(done), orphan_usage=forgotten)
        chunks = source(job, files)
        keeping: asyncio.Task[None] | None = None  # the previous chunk being made durable
        renewed = -float("inf")  # the lease is renewed when a third of it has passed
        reading = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
        try:
            while (chunk := await reading) is not None:
                # the next chunk is read while this one is scored and the last one kept
                reading = asyncio.ensure_future(asyncio.to_thread(next, chunks, None))
                if chunk.index in done:
                    continue
                if time.monotonic() - renewed >= self._lease_s / 3:
                    current = await self._ledger.renew(job.id, self._owner, self._lease_s)
                    renewed = time.monotonic()
                else:  # the lease holds well past this chunk: read the cancel flag only
                    current = await self._ledger.get(job.id)
                if current.cancel_requested:
                    await _settled(keeping)
                    await self._ledger.set_status(job.id, "cancelled", "cancelled on request")
                    log.info("job_cancelled", job=job.id)
                    return "cancelled"
                started = time.monotonic()
                result = await self._scorer.score(job, principal, chunk)
                if keeping is not None:
                    await keeping  # chunks are recorded in order, one at a time
                keeping = asyncio.create_task(self._keep(job, files, result))
                done.add(chunk.index)
                rate = job.options.get("rows_per_s")
                if rate:  # a backfill's pace: it never crowds out live traffic
                    await asyncio.sleep(
                        max(0.0, chunk.rows / float(rate) - (time.monotonic() - started))
                    )
            if keeping is not None:
                await keeping
        finally:
            reading.add_done_callback(_retrieved)  # a read ahead no one will take
            await _settled(keeping)  # a chunk already scored is still kept when a later fails
        await asyncio.to_thread(files.assemble, done)
        if finish is not None:
            await asyncio.to_thread(finish, files)
        await self._ledger.set_status(job.id, "succeeded")
        await asyncio.to_thread(files.remove_parts)
        log.info("job_succeeded", job=job.id, chunks=len(done))
        return "succeeded"

    async def _keep(self, job: Job, files: JobFiles, result: ChunkResult) -> None:
        """Steps 2–4 of the module's order for one scored chunk."""
        chunk = result.chunk
        if self._flush_usage is not None:
            await self._flush_usage()  # the charges are durable before the chunk counts
        await asyncio.to_thread(
            files.write_part, chunk.index, result.answers, result.errors, result.blocks
        )
        await self._ledger.record_chunk(
            job.id,
            chunk.index,
            chunk.first_row,
            chunk.rows,
            len(result.errors),
            result.cost_micros,
        )


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def _settled(task: asyncio.Task[None] | None) -> None:
    """Wait for ``task`` to end; its own failure was (or will be) raised where awaited."""
    if task is not None and not task.done():
        with contextlib.suppress(Exception):
            await task
