"""Scoring one chunk: its rows go through the deployment's own pipeline in batch-sized calls.

A job is not a second system: each call is a ``Call`` like an online request (the job's
owner as principal, so tenant, limits, budget, guards, audit and cost apply), carrying up to
``call_rows`` rows. Refusals are sorted by what they mean:

- the call's input was refused (contract, guard): the call is split in halves until the
  refused rows are found; each gets the error's ``type`` as reason code, the others answer;
- a rate limit is back-pressure: the call waits its ``Retry-After`` and goes again, for as
  long as it takes (a job never outruns its key's limits, so it never crowds out live
  traffic that shares them);
- the server is busy (overload, timeout, upstream down): retried with backoff, then the
  rows fail with that reason;
- the job itself cannot go on (budget spent, key revoked, deployment gone): ``JobHalted``.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np

from bastion.backends.columns import ClassifierColumns
from bastion.core.columns import FeatureRows
from bastion.errors import (
    BastionError,
    BudgetExceeded,
    Forbidden,
    InvalidRequest,
    ModelNotReady,
    NotFound,
    Overloaded,
    RateLimited,
    Timeout,
    Unauthorized,
    UpstreamUnavailable,
)
from bastion.jobs.columnar import ColumnPlan, PlannedJob, StoredInput, prepare_columns
from bastion.jobs.entities import Answer, AnswerBlock, Chunk, ChunkResult, Job, RowError
from bastion.jobs.ledger import chunk_request_prefix
from bastion.pipeline import Call, Next

Rows = list[tuple[int, Any]]
# A data-contract screen: (job, chunk, rows) → (rows to score, rows held with their reason)
Screen = Callable[[Job, Chunk, Rows], Awaitable[tuple[Rows, list[RowError]]]]
Sleep = Callable[[float], Awaitable[None]]
_RETRYABLE = (Overloaded, ModelNotReady, Timeout, UpstreamUnavailable)
_FATAL = (BudgetExceeded, Forbidden, Unauthorized, NotFound)


class JobHalted(Exception):
    """The job cannot continue; ``error`` says why (kept on the job)."""

    def __init__(self, error: BastionError) -> None:
        super().__init__(f"{error.type}: {error}")
        self.error = error


@dataclass(frozen=True, slots=True)
class ScorerLimits:
    call_rows: int = 256
    columnar_call_rows: int = 32_768  # calls of a columnar chunk (jobs/columnar.py)
    # a deployment's own ``max_batch``, which bounds a job's calls too (contracts/stage.py):
    # calls are cut to it instead of being refused and split
    per_deployment: Mapping[str, int] = field(default_factory=dict)
    concurrency: int = 4
    max_retries: int = 5
    backoff_s: float = 0.2


class ChunkScorer:
    """Runs the rows of one chunk through ``pipeline`` as the job's principal."""

    def __init__(
        self,
        pipeline: Next,
        limits: ScorerLimits = ScorerLimits(),
        sleep: Sleep = asyncio.sleep,
        screen: Screen | None = None,
        columns: ColumnPlan | None = None,
    ) -> None:
        self._screen = screen
        self._columns = columns
        self._pipeline = pipeline
        self._limits = limits
        self._sleep = sleep

    def columnar(self, job: PlannedJob) -> bool:
        """Whether ``job``'s Parquet chunks may take the columnar path (its chunk size)."""
        return self._columns is not None and self._columns(job) is not None

    async def score(self, job: Job, principal: Any, chunk: Chunk) -> ChunkResult:
        own = self._limits.per_deployment.get(job.deployment)
        wide = min(self._limits.columnar_call_rows, own or self._limits.columnar_call_rows)
        prepared = None
        if chunk.table is not None and self._columns is not None:
            records = self._columns(job)
            if records is not None:  # off the event loop: numpy, Arrow and hashlib
                digest = job.options.get("input_sha256")
                source = StoredInput(digest, chunk.first_row) if digest else None
                prepared = await asyncio.to_thread(
                    prepare_columns, chunk.table, records, wide, source
                )
        split = prepared[0] if prepared is not None else None
        if split is None:
            field = job.options.get("input_field")  # backfills: rows carry their input
            values = chunk.row_values()
            rows = [
                (chunk.first_row + i, v.get(field) if field and isinstance(v, dict) else v)
                for i, v in enumerate(values)
                if chunk.first_row + i not in chunk.errors
            ]
        else:  # the columnar path (jobs/columnar.py): only the doubtful rows as dicts
            bad = chunk.table.take(split.bad).to_pylist() if len(split.bad) else []
            rows = list(zip((split.bad + chunk.first_row).tolist(), bad, strict=True))
        held: list[RowError] = []
        if self._screen is not None:
            rows, held = await self._screen(job, chunk, rows)
        size = min(self._limits.call_rows, own or self._limits.call_rows)
        ids = itertools.count()
        prefix = chunk_request_prefix(job.id, chunk.index)
        gate = asyncio.Semaphore(self._limits.concurrency)
        run = _ChunkRun(self, job, principal, lambda: f"{prefix}{next(ids)}")

        async def one(batch: list[tuple[int, Any]]) -> None:
            async with gate:
                await run.batch(batch)

        async def columns(start: int, inputs: FeatureRows) -> None:
            assert split is not None
            async with gate:
                await run.columns(split.good[start : start + wide] + chunk.first_row, inputs)

        calls = [one(rows[i : i + size]) for i in range(0, len(rows), size)]
        if prepared is not None:
            calls += [columns(i * wide, part) for i, part in enumerate(prepared[1])]
        await asyncio.gather(*calls)
        errors = sorted([*chunk.errors.values(), *held, *run.errors], key=lambda e: e.row)
        answers = sorted(run.answers, key=lambda a: a.row)
        return ChunkResult(chunk, answers, errors, run.cost_micros, run.blocks)


class _ChunkRun:
    """The mutable tally of one chunk's calls (answers, errors, cost)."""

    def __init__(
        self, scorer: ChunkScorer, job: Job, principal: Any, request_id: Callable[[], str]
    ) -> None:
        self._scorer = scorer
        self._job = job
        self._principal = principal
        self._request_id = request_id
        self.answers: list[Answer] = []
        self.blocks: list[AnswerBlock] = []
        self.errors: list[RowError] = []
        self.cost_micros = 0

    async def columns(self, rows: np.ndarray[Any, Any], inputs: FeatureRows) -> None:
        """Answer a columnar batch; a refused one goes the row path to find its bad rows."""
        try:
            call, result = await self._call_with_retries(cast("list[Any]", inputs))
        except (InvalidRequest, _InputRefused):
            await self.batch(list(zip(rows.tolist(), inputs.dicts(), strict=True)))
            return
        except _GaveUp as exc:
            message = f"gave up after retries: {exc.error}"
            self.errors.extend(RowError(r, exc.error.type, message) for r in rows.tolist())
            return
        self.cost_micros += round((call.cost_usd or 0.0) * 1_000_000)
        answers = result.predictions
        if isinstance(answers, ClassifierColumns):
            self.blocks.append(AnswerBlock(rows, answers))  # encoded when the part is written
            return
        for row, pred in zip(rows.tolist(), answers, strict=True):
            self.answers.append(Answer(row, pred.output, pred.confidence))

    async def batch(self, rows: list[tuple[int, Any]]) -> None:
        """Answer ``rows``; a refused input splits the batch until the bad rows are found."""
        try:
            call, result = await self._call_with_retries([v for _, v in rows])
        except (InvalidRequest, _InputRefused) as exc:
            error = exc.error if isinstance(exc, _InputRefused) else exc
            if len(rows) == 1:
                rule = error.details.get("rule") if error.details else None
                self.errors.append(RowError(rows[0][0], error.type, str(error), rule))
                return
            half = len(rows) // 2
            await self.batch(rows[:half])
            await self.batch(rows[half:])
            return
        except _GaveUp as exc:
            message = f"gave up after retries: {exc.error}"
            self.errors.extend(RowError(r, exc.error.type, message) for r, _ in rows)
            return
        cost = call.cost_usd
        self.cost_micros += round((cost or 0.0) * 1_000_000)
        for (row, _), pred in zip(rows, result.predictions, strict=True):
            self.answers.append(Answer(row, pred.output, pred.confidence))

    async def _call_with_retries(self, inputs: list[Any]) -> tuple[Call, Any]:
        limits = self._scorer._limits
        failures = 0
        while True:
            call = Call(
                request_id=self._request_id(),
                deployment=self._job.deployment,
                api="batch",
                inputs=inputs,
                batched=True,
                started_at=time.perf_counter(),
                requested_version=self._job.version,
                principal=self._principal,
            )
            try:
                return call, await self._scorer._pipeline(call)
            except _FATAL as exc:
                raise JobHalted(exc) from exc
            except RateLimited as exc:
                await self._scorer._sleep(min(exc.retry_after or limits.backoff_s, 30.0))
            except _RETRYABLE as exc:
                if failures >= limits.max_retries:
                    raise _GaveUp(exc) from exc
                delay = exc.retry_after or limits.backoff_s * 2**failures
                failures += 1
                await self._scorer._sleep(min(delay, 30.0))
            except InvalidRequest:
                raise
            except BastionError as exc:
                if exc.status < 500:
                    raise _InputRefused(exc) from exc  # e.g. blocked by a guard
                raise _GaveUp(exc) from exc


class _GaveUp(Exception):
    def __init__(self, error: BastionError) -> None:
        self.error = error


class _InputRefused(Exception):
    def __init__(self, error: BastionError) -> None:
        self.error = error
