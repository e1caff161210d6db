"""The OpenAI Batch API's engine: validate an input file, run its lines once each, finish.

Each JSONL line (``custom_id``, ``method: POST``, ``url`` = the batch's endpoint, ``body``)
becomes one call through the pipeline as the batch's owner (``LineCaller``, given by the API
layer), so limits, budgets, guards, audit and cost apply per line. Lines run
``concurrency`` at a time; after each group the usage log is flushed and the group's
results are recorded with the batch's counts in one transaction (the ledger). A batch whose
process died is claimed again once its lease lapses: recorded lines are never re-run,
usage rows of unrecorded lines are forgotten first, so each line is charged once.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from bastion.errors import BastionError, InvalidRequest
from bastion.guards.pii import PiiDetector
from bastion.jobs.batch_store import BatchStore, batch_view, line_prefix
from bastion.jobs.files import FileStore
from bastion.jobs.owner import owner_of
from bastion.jobs.scorer import JobHalted
from bastion.security import KeyStore, Principal
from bastion.store.batch_tables import BatchLineRow, BatchRow

log = structlog.get_logger(__name__)
ENDPOINTS = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")
# (principal, request id, endpoint, body) → (ok, {"status_code", "request_id", "body"}, cost µ$)
LineResult = tuple[bool, dict[str, Any], int]
LineCaller = Callable[[Principal, str, str, dict[str, Any]], Awaitable[LineResult]]


def read_lines(path: Any, endpoint: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """``(line number, custom_id, body)`` per request; InvalidRequest names a bad line."""
    seen: set[str] = set()
    with open(path, "rb") as fh:
        number = 0
        for raw in fh:
            if not raw.strip():
                continue
            number += 1
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InvalidRequest(f"line {number}: not valid JSON ({exc})") from exc
            if not isinstance(doc, dict) or not isinstance(doc.get("body"), dict):
                raise InvalidRequest(f"line {number}: needs custom_id, method, url and body")
            custom_id = doc.get("custom_id")
            if not isinstance(custom_id, str) or custom_id in seen:
                raise InvalidRequest(f"line {number}: custom_id must be a unique string")
            if doc.get("method") != "POST" or doc.get("url") != endpoint:
                raise InvalidRequest(f"line {number}: method must be POST and url {endpoint}")
            seen.add(custom_id)
            yield number, custom_id, doc["body"]


class BatchService:
    def __init__(
        self,
        store: BatchStore,
        files: FileStore,
        keys: KeyStore,
        call_line: LineCaller,
        *,
        flush_usage: Callable[[], Awaitable[Any]] | None = None,
        concurrency: int = 8,
        lease_s: float = 15.0,
        poll_interval_s: float = 2.0,
    ) -> None:
        self.store = store
        self.files = files
        self._keys = keys
        self._call_line = call_line
        self._flush = flush_usage
        self._concurrency = concurrency
        self._lease_s = lease_s
        self._poll = poll_interval_s
        self._owner = f"batches-{secrets.token_hex(6)}"
        self._wake = asyncio.Event()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.Task[None] | None = None

    async def create(
        self,
        principal: Principal,
        input_file_id: str,
        endpoint: str,
        completion_window: str,
        metadata: dict[str, Any] | None,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        """Validate the request and the input file, then store the batch (validated)."""
        if endpoint not in ENDPOINTS:
            raise InvalidRequest(f"endpoint: must be one of {', '.join(ENDPOINTS)}",
                                 details={"field": "endpoint"})  # fmt: skip
        if completion_window != "24h":
            raise InvalidRequest("completion_window: must be '24h'",
                                 details={"field": "completion_window"})  # fmt: skip
        source = await self.files.get(principal, input_file_id)
        if source.purpose != "batch":
            raise InvalidRequest(f"input_file_id: {input_file_id} was not uploaded for 'batch'")
        path = self.files.path(input_file_id)
        total = await asyncio.to_thread(lambda: sum(1 for _ in read_lines(path, endpoint)))
        row = await self.store.create(
            principal, idempotency_key, endpoint=endpoint, input_file_id=input_file_id,
            completion_window=completion_window, status="validating", total=total,
            meta=PiiDetector().scrub(dict(metadata or {})),  # labels kept, no raw PII at rest
        )  # fmt: skip
        self._wake.set()
        return batch_view(row)

    async def cancel(self, principal: Principal, batch_id: str) -> dict[str, Any]:
        row = await self.store.get(principal, batch_id)
        if row.status in ("validating", "in_progress", "finalizing"):
            await self.store.update(batch_id, status="cancelling", cancelling_at=_now())
        return batch_view(await self.store.get(principal, batch_id))

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._claim_loop(), name="openai-batches")

    async def _claim_loop(self) -> None:
        while True:
            with contextlib.suppress(BastionError, OSError):
                for row in await self.store.claim(self._owner, self._lease_s):
                    if row.id not in self._tasks:
                        self._tasks[row.id] = asyncio.create_task(self._run(row))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll)
            self._wake.clear()

    async def _run(self, row: BatchRow) -> None:
        try:
            principal = await owner_of(self._keys, row.key_id, None, row.id)
            await self._lines(row, principal)
        except JobHalted as exc:
            await self.store.update(row.id, status="failed", failed_at=_now(), errors=str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a batch's failure must not take the server down
            log.exception("batch_failed", batch=row.id)
            await self.store.update(row.id, status="failed", failed_at=_now(),
                                    errors=f"{type(exc).__name__}: {exc}")  # fmt: skip
        finally:
            self._tasks.pop(row.id, None)

    async def _lines(self, row: BatchRow, principal: Principal) -> None:
        done = await self.store.done_lines(row.id)
        await self.store.forget_unrecorded_usage(row.id, done)
        if row.status == "validating":
            await self.store.update(row.id, status="in_progress", in_progress_at=_now())
        todo = [t for t in read_lines(self.files.path(row.input_file_id), row.endpoint)
                if t[0] not in done]  # fmt: skip
        for start in range(0, len(todo), self._concurrency):
            current = await self.store.get(None, row.id)
            if current.status == "cancelling":
                break
            group = todo[start : start + self._concurrency]
            results = await asyncio.gather(*(self._one(row, principal, *t) for t in group))
            if self._flush is not None:
                await self._flush()  # the group's charges are durable before it counts
            await self.store.record(row.id, results, self._lease_s)
        await self._finish(row)

    async def _one(
        self, row: BatchRow, principal: Principal, line: int, custom_id: str, body: dict[str, Any]
    ) -> BatchLineRow:
        request_id = line_prefix(row.id, line) + secrets.token_hex(4)
        ok, response, cost = await self._call_line(principal, request_id, row.endpoint, body)
        result = {"id": f"batch_req_{row.id[6:]}_{line}", "custom_id": custom_id,
                  "response": response, "error": None}  # fmt: skip
        return BatchLineRow(batch_id=row.id, line=line, ok=ok, result=result, cost_micros=cost)

    async def _finish(self, row: BatchRow) -> None:
        current = await self.store.get(None, row.id)
        cancelled = current.status == "cancelling"
        if not cancelled:
            await self.store.update(row.id, status="finalizing", finalizing_at=_now())
        ok = await self.store.results(row.id, True)
        failed = await self.store.results(row.id, False)
        out = await self.files.produce(row.tenant, row.key_id, f"{row.id}_output.jsonl",
                                       (orjson.dumps(r) + b"\n" for r in ok))  # fmt: skip
        values: dict[str, Any] = {"output_file_id": out.id, "lease_owner": None}
        if failed:
            err = await self.files.produce(row.tenant, row.key_id, f"{row.id}_error.jsonl",
                                           (orjson.dumps(r) + b"\n" for r in failed))  # fmt: skip
            values["error_file_id"] = err.id
        if cancelled:
            values.update(status="cancelled", cancelled_at=_now())
        else:
            values.update(status="completed", completed_at=_now())
        await self.store.update(row.id, **values)
        log.info("batch_finished", batch=row.id, ok=len(ok), failed=len(failed))

    async def aclose(self) -> None:
        tasks = [t for t in (self._loop, *self._tasks.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None


def _now() -> datetime:
    return datetime.now(UTC)
