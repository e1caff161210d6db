"""The usage log: one row per settled call, written in batches off the request path."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from bastion.core.principal import ANONYMOUS
from bastion.governance.budget.base import Usage
from bastion.store.row_writer import RowsPartlyWritten, RowWriter, utc_text
from bastion.store.usage_tables import UsageRow

if TYPE_CHECKING:
    from bastion.pipeline import Call
    from bastion.store import Database

log = structlog.get_logger(__name__)

_COLUMNS = (
    "at",
    "day",
    "request_id",
    "tenant",
    "team",
    "key_id",
    "deployment",
    "model",
    "api",
    "cost_micros",
    "prompt_tokens",
    "completion_tokens",
    "tokens",
    "cached",
    "estimated",
    "prompt",
)
SQLITE_INSERT = (  # positional: sqlite3 binds a tuple faster than it looks up a dict's names
    f"INSERT INTO usage_records ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
)


@dataclass(slots=True)  # not frozen: built on every call (see docs/architecture.md)
class UsageRecord:
    """What one call used and cost, and whom it is charged to."""

    at: datetime
    request_id: str
    tenant: str
    team: str | None
    key_id: str
    deployment: str
    model: str
    api: str
    cost_micros: int
    prompt_tokens: int
    completion_tokens: int
    tokens: int
    cached: bool
    estimated: bool = False  # tokens and cost estimated (the upstream sent no usage)
    prompt: str | None = None  # the prompt version the call rendered: NAME@VERSION

    @classmethod
    def of(cls, call: Call, usage: Usage, now: datetime | None = None) -> UsageRecord:
        principal = call.principal or ANONYMOUS  # whom it is charged to, as ``Subject.of``
        reported = call.usage or {}
        model = call.served_by or getattr(call.target, "model", None) or call.deployment
        return cls(  # positional, in field order: a keyword call costs twice as much
            now or datetime.now(UTC),
            call.request_id,
            principal.tenant,
            principal.team or None,
            principal.key_id,
            call.deployment,
            str(model)[:100],
            call.api[:32],
            usage.micros,
            int(reported.get("prompt_tokens") or 0),
            int(reported.get("completion_tokens") or 0),
            usage.tokens,
            call.cached,
            call.usage_estimated,
            call.prompt.ref[:100] if call.prompt is not None else None,
        )

    def row(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "day": self.at.astimezone(UTC).date().isoformat(),
            "request_id": self.request_id[:100],
            "tenant": self.tenant,
            "team": self.team,
            "key_id": self.key_id,
            "deployment": self.deployment[:100],
            "model": self.model,
            "api": self.api,
            "cost_micros": self.cost_micros,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "tokens": self.tokens,
            "cached": self.cached,
            "estimated": self.estimated,
            "prompt": self.prompt,
        }

    def sqlite_params(self) -> dict[str, Any]:
        """The same for a raw sqlite3 ``executemany`` (text times, integer booleans)."""
        return dict(zip(_COLUMNS, self.sqlite_values(), strict=True))

    def sqlite_values(self) -> tuple[Any, ...]:
        """``sqlite_params`` in ``SQLITE_INSERT``'s order (the time as SQLAlchemy's DateTime
        stores a UTC time on SQLite, so that its reads parse ours)."""
        at = self.at.astimezone(UTC)
        return (
            utc_text(at, " "),
            at.date().isoformat(),
            self.request_id[:100],
            self.tenant,
            self.team,
            self.key_id,
            self.deployment[:100],
            self.model,
            self.api,
            self.cost_micros,
            self.prompt_tokens,
            self.completion_tokens,
            self.tokens,
            int(self.cached),
            int(self.estimated),
            self.prompt,
        )


class UsageRecorder:
    """Buffers records and writes them in one INSERT per batch (a group commit).

    The request path only appends to a list: no response waits on the database. A batch is
    written every ``flush_interval_s`` or as soon as ``max_batch`` records wait, and whatever
    is left on ``aclose``. Above ``max_pending`` (the database is down) new records are
    dropped and counted; budgets stay exact regardless, since their counters live elsewhere.

    A flush writes what was queued when it began, not what arrives while it writes: at
    concurrency 1 a flush that chased the queue wrote one-row batches back to back, each an
    fsync'd commit holding SQLite's write lock while the next request's audit record waited.
    Given ``rows`` (on a SQLite file, the audit log's writer), batches go through that one
    thread and connection; otherwise through a session (PostgreSQL, or the audit log off).
    A record leaves the queue only once its batch is committed, and a running flush is never
    cancelled, so each is written exactly once.
    """

    def __init__(
        self,
        db: Database,
        *,
        flush_interval_s: float = 0.5,
        max_batch: int = 500,
        max_pending: int = 100_000,
        rows: RowWriter | None = None,
    ) -> None:
        self._db = db
        self._rows = rows
        self._interval = flush_interval_s
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[UsageRecord] = []
        self._wake = asyncio.Event()
        self._flushing = asyncio.Lock()  # the writer task and callers (batch jobs) may overlap
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def record(self, call: Call, usage: Usage) -> None:
        """Queue the record of one settled call (an ``AdmitStage`` ``on_settled`` hook)."""
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            return
        self._pending.append(UsageRecord.of(call, usage))
        if len(self._pending) >= self._max_batch:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="usage-recorder")

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Write everything queued so far; returns how many rows were written. Safe to call
        while the writer task runs (a batch job makes its charges durable this way)."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        written, queued = 0, len(self._pending)
        while written < queued:
            batch = self._pending[: min(self._max_batch, queued - written)]
            try:
                await self._write(batch)
            except RowsPartlyWritten as exc:  # those are in: only the rest is retried
                del self._pending[: exc.written]
                log.warning(
                    "usage_flush_failed",
                    rows=len(batch) - exc.written,
                    error=type(exc.cause).__name__,
                )
                return written + exc.written
            except (SQLAlchemyError, sqlite3.Error, OSError) as exc:  # kept, retried later
                log.warning("usage_flush_failed", rows=len(batch), error=type(exc).__name__)
                return written
            del self._pending[: len(batch)]
            written += len(batch)
        return written

    async def _write(self, batch: list[UsageRecord]) -> None:
        if self._rows is not None:
            await self._rows.insert(SQLITE_INSERT, [r.sqlite_values() for r in batch])
            return
        async with self._db.session() as session:
            await session.execute(insert(UsageRow), [r.row() for r in batch])
            await session.commit()

    async def aclose(self) -> None:
        if self._task is not None:
            async with self._flushing:  # not mid-write: its rows would be written again
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self.dropped:
            log.warning("usage_records_dropped", rows=self.dropped)
