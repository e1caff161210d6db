"""Issue 20, in-process: what a c=1 request's latency tail waits on.

One client sends chat completions one after another straight into the ASGI app (every
default on, durable audit included) against the fault upstream in another process, and
records each request's wall time. Meanwhile it notes, from the outside, every SQLAlchemy
session that committed (its start, its end and the Bastion function that opened it) and
every audit append (how long it waited for SQLite's write lock, how long it took). Requests
at or above the p99 are then attributed to what overlapped them.

    PYTHONPATH=<checkout> python -m bench.c1_tail [requests]

Prints p50 / p90 / p99 / max in ms, CPU µs per request, and for the slow requests: how many
overlapped each other writer's commit, and their mean audit lock wait and append time.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from bench.gateway_overhead import BODY, bastion_config, start_upstream
from bench.hot_path_inprocess import KEY, one_request

Span = tuple[float, float, str]


def _caller() -> str:
    """The first Bastion frame outside ``store/`` above the caller: who opened the session."""
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if "/bastion/" in name and "/bastion/store/" not in name:
            return f"{name.split('/bastion/')[-1]}:{frame.f_code.co_name}"
        frame = frame.f_back  # type: ignore[assignment]
    return "?"


def _instrument(spans: list[Span], appends: list[tuple[float, float, float, float]]) -> None:
    """Record committed sessions and audit appends (the bench's own patching, not Bastion's)."""
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from bastion.observability.audit import sqlite_writer
    from bastion.store import database

    original_session = database.Database.session
    original_commit = AsyncSession.commit

    @contextlib.asynccontextmanager
    async def session(self: database.Database) -> AsyncIterator[AsyncSession]:
        who, started = _caller(), time.perf_counter()
        async with original_session(self) as s:
            s.info["bench_committed"] = False
            yield s
        if s.info.get("bench_committed"):
            spans.append((started, time.perf_counter(), who))

    async def commit(self: AsyncSession) -> None:
        self.info["bench_committed"] = True
        await original_commit(self)

    original_begin_engine = AsyncEngine.begin

    @contextlib.asynccontextmanager
    async def engine_begin(self: AsyncEngine) -> AsyncIterator[Any]:
        who, started = _caller(), time.perf_counter()
        async with original_begin_engine(self) as conn:
            yield conn
        spans.append((started, time.perf_counter(), who))

    AsyncEngine.begin = engine_begin  # type: ignore[method-assign,assignment]
    database.Database.session = session  # type: ignore[method-assign]
    AsyncSession.commit = commit  # type: ignore[method-assign]

    class Timed(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql != "COMMIT":
                return super().execute(sql, *args)
            started = time.perf_counter()
            try:
                return super().execute(sql, *args)
            finally:
                commit_s[0] = time.perf_counter() - started

    shim = types.SimpleNamespace(**vars(sqlite3))
    shim.connect = functools.partial(sqlite3.connect, factory=Timed)
    sqlite_writer.sqlite3 = shim  # type: ignore[assignment]
    commit_s = [0.0]
    original_begin = sqlite_writer.begin_immediate
    original_append = sqlite_writer.SqliteChainWriter._append
    lock_wait = [0.0]

    def begin(conn: Any, timeout_s: float, **kw: Any) -> int:
        started = time.perf_counter()
        try:
            return original_begin(conn, timeout_s, **kw)
        finally:
            lock_wait[0] = time.perf_counter() - started

    def append(self: Any, entries: Any) -> Any:
        started = time.perf_counter()
        try:
            return original_append(self, entries)
        finally:
            appends.append((started, time.perf_counter(), lock_wait[0], commit_s[0]))

    sqlite_writer.begin_immediate = begin  # type: ignore[assignment]
    sqlite_writer.SqliteChainWriter._append = append  # type: ignore[method-assign]
    original_insert = getattr(sqlite_writer.SqliteChainWriter, "_insert", None)
    if original_insert is not None:  # other writers' rows on the audit writer's thread

        def insert(self: Any, sql: str, rows: Any) -> None:
            started = time.perf_counter()
            try:
                original_insert(self, sql, rows)
            finally:
                spans.append((started, time.perf_counter(), f"audit writer: {sql.split()[2]}"))

        sqlite_writer.SqliteChainWriter._insert = insert  # type: ignore[attr-defined]


async def _run(upstream: str, requests: int) -> dict[str, Any]:
    os.environ["BASTION_DATA_DIR"] = tempfile.mkdtemp(prefix="bastion-c1-tail-")
    os.environ["BASTION_ADMIN_KEY"] = KEY
    os.environ["BASTION_CONFIG"] = str(bastion_config(upstream, only_issue3=False))
    os.environ["BASTION_LOGGING__LEVEL"] = "warning"
    spans: list[Span] = []
    appends: list[tuple[float, float, float, float]] = []
    _instrument(spans, appends)
    from bastion.app import app_from_environment
    from bastion.bootstrap import prepare
    from bastion.settings import load_settings

    await prepare(load_settings(), lambda *_: None)
    app: Any = app_from_environment()
    statuses: dict[int, int] = {}
    took: list[tuple[float, float]] = []
    async with app.router.lifespan_context(app) as state:
        for n in range(300):  # warm-up
            body = BODY.replace("hello there", f"warm {n}").encode()
            await one_request(app, state or {}, statuses, body)
        spans.clear()
        appends.clear()
        cpu = time.process_time()
        for n in range(requests):
            body = BODY.replace("hello there", f"hello there, message {n}").encode()
            started = time.perf_counter()
            await one_request(app, state or {}, statuses, body)
            took.append((started, time.perf_counter()))
        cpu = time.process_time() - cpu
    return _report(took, spans, appends, cpu, requests, statuses)


def _overlaps(a: tuple[float, float], b_start: float, b_end: float) -> bool:
    return a[0] < b_end and b_start < a[1]


def _report(
    took: list[tuple[float, float]],
    spans: list[Span],
    appends: list[tuple[float, float, float, float]],
    cpu: float,
    requests: int,
    statuses: dict[int, int],
) -> dict[str, Any]:
    ms = [(e - s) * 1e3 for s, e in took]
    q = statistics.quantiles(ms, n=100)
    p99 = q[98]
    slow = [t for t, m in zip(took, ms, strict=True) if m >= p99]
    writers: Counter[str] = Counter()
    for t in slow:
        for who in {w for s, e, w in spans if _overlaps(t, s, e)}:
            writers[who] += 1
    slow_appends = [a for a in appends if any(_overlaps(t, a[0], a[1]) for t in slow)]

    def mean_ms(values: list[float]) -> float:
        return round(statistics.fmean(values) * 1e3, 3) if values else 0.0

    return {
        "requests": requests,
        "statuses": {str(k): v for k, v in statuses.items()},
        "ms": {
            "p50": round(q[49], 3),
            "p90": round(q[89], 3),
            "p99": round(p99, 3),
            "max": round(max(ms), 2),
        },
        "cpu_us_per_request": round(cpu / requests * 1e6),
        "commits_by_writer": dict(Counter(w for _, _, w in spans).most_common()),
        "slow_requests": len(slow),
        "slow_overlapping_writer": dict(writers.most_common()),
        "audit_lock_wait_ms": {
            "all_mean": mean_ms([a[2] for a in appends]),
            "slow_mean": mean_ms([a[2] for a in slow_appends]),
            "all_max": round(max((a[2] for a in appends), default=0) * 1e3, 2),
        },
        "audit_commit_ms": {
            "all_mean": mean_ms([a[3] for a in appends]),
            "slow_mean": mean_ms([a[3] for a in slow_appends]),
            "all_p99": round(statistics.quantiles([a[3] for a in appends], n=100)[98] * 1e3, 3),
        },
        "audit_append_ms": {
            "all_mean": mean_ms([a[1] - a[0] for a in appends]),
            "slow_mean": mean_ms([a[1] - a[0] for a in slow_appends]),
        },
        "slow_request_ms_mean": mean_ms([e - s for s, e in slow]),
        "load": os.getloadavg(),
    }


def main(requests: int = 3000) -> str:
    import uvloop

    upstream_proc, upstream = start_upstream(cpu=1)
    runner: Callable[..., Any] = uvloop.run
    try:
        got = runner(_run(upstream, requests))
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    return orjson.dumps(got, option=orjson.OPT_INDENT_2).decode()


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
