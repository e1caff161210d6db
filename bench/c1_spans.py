"""Issue 20, in-process: where one c=1 chat completion's time goes, span by span.

Like ``bench.c1_tail`` (one client, requests one after another straight into the ASGI app,
every default on, durable audit), but with ``perf_counter`` marks along each request: the
upstream call (the execute stage), the inner stages' way out, the audit append (handed to
the writer, the writer thread's start, its ``COMMIT``, the waiter resumed), the record
stage, and the answer's first byte handed to the server. Prints the median of each span.

    PYTHONPATH=<checkout> python -m bench.c1_spans [requests]
"""

from __future__ import annotations

import functools
import gc
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import types
from collections.abc import Callable
from typing import Any

import orjson

from bench.gateway_overhead import BODY, bastion_config, start_upstream
from bench.hot_path_inprocess import KEY, scope

Marks = dict[str, float]
Event = tuple[float, float, str]


def _instrument(marks: list[Marks], events: list[Event]) -> None:
    """Patch the marks in (the bench's own patching, not Bastion's)."""
    from bastion.observability import stage as record_stage
    from bastion.observability.audit import log as audit_log
    from bastion.observability.audit import sqlite_writer

    def mark(name: str) -> None:
        if marks and name not in marks[-1]:
            marks[-1][name] = time.perf_counter()

    execute = record_stage.ExecuteStage.__call__

    async def timed_execute(self: Any, call: Any, next: Any) -> Any:
        mark("execute_start")
        try:
            return await execute(self, call, next)
        finally:
            mark("execute_end")

    record_stage.ExecuteStage.__call__ = timed_execute  # type: ignore[method-assign]
    record = record_stage.RecordStage._record

    def timed_record(self: Any, *args: Any) -> None:
        mark("record_start")
        record(self, *args)
        mark("record_end")

    record_stage.RecordStage._record = timed_record  # type: ignore[method-assign]
    for name in ("append", "submit"):
        original = getattr(audit_log.AuditLog, name, None)
        if original is None:
            continue

        def wrap(original: Callable[..., Any] = original, name: str = name) -> Callable[..., Any]:
            @functools.wraps(original)
            def call(self: Any, entry: Any) -> Any:
                mark("audit_handed")
                return original(self, entry)

            return call

        setattr(audit_log.AuditLog, name, wrap())
    durable = getattr(audit_log.AuditLog, "durable", None)

    appending = threading.local()
    append_batch = sqlite_writer.SqliteChainWriter._append

    def timed_append(self: Any, entries: Any) -> Any:
        appending.on = True
        try:
            return append_batch(self, entries)
        finally:
            appending.on = False

    sqlite_writer.SqliteChainWriter._append = timed_append  # type: ignore[method-assign]

    class Timed(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if not getattr(appending, "on", False):  # another writer's statement
                return super().execute(sql, *args)
            if sql == "BEGIN IMMEDIATE":
                mark("writer_begin")
            elif sql == "COMMIT":
                mark("commit_start")
                try:
                    return super().execute(sql, *args)
                finally:
                    mark("commit_end")
            return super().execute(sql, *args)

    shim = types.SimpleNamespace(**vars(sqlite3))
    shim.connect = functools.partial(sqlite3.connect, factory=Timed)
    sqlite_writer.sqlite3 = shim  # type: ignore[assignment]
    del durable
    from bastion.observability.audit import sqlite_lock

    insert = sqlite_writer.SqliteChainWriter._insert

    def timed_insert(self: Any, sql: str, rows: Any) -> None:
        started = time.perf_counter()
        try:
            insert(self, sql, rows)
        finally:
            events.append((started, time.perf_counter(), f"insert {sql.split()[2]} x{len(rows)}"))

    sqlite_writer.SqliteChainWriter._insert = timed_insert  # type: ignore[method-assign]
    checkpoint = sqlite_lock.Checkpointer._checkpoint

    def timed_checkpoint(self: Any, conn: Any) -> None:
        started = time.perf_counter()
        try:
            checkpoint(self, conn)
        finally:
            events.append((started, time.perf_counter(), "checkpoint"))

    sqlite_lock.Checkpointer._checkpoint = timed_checkpoint  # type: ignore[method-assign]
    if os.environ.get("SWITCH_S"):  # try another GIL switch interval
        sys.setswitchinterval(float(os.environ["SWITCH_S"]))
    if os.environ.get("CHECKPOINT_S"):  # try another interval between checkpoints
        interval = float(os.environ["CHECKPOINT_S"])
        sqlite_lock.Checkpointer.__init__.__kwdefaults__ = {"interval_s": interval}
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            events.append((gc_started[0], time.perf_counter(), f"gc{info['generation']}"))

    gc.callbacks.append(on_gc)


def _watch_stalls(events: list[Event], stop: threading.Event) -> threading.Thread:
    """A thread that sleeps 1 ms at a time; when it wakes 2 ms late (the GIL held, or the CPU
    taken), it notes the top frames of every other thread then, as an event."""

    def run() -> None:
        me = threading.get_ident()
        names = {}
        while not stop.is_set():
            before = time.perf_counter()
            time.sleep(0.001)
            now = time.perf_counter()
            if now - before < 0.003:
                continue
            for t in threading.enumerate():
                names[t.ident] = t.name
            stacks = []
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                where = []
                f: Any = frame
                while f is not None and len(where) < 4:
                    code = f.f_code
                    where.append(
                        f"{code.co_filename.rsplit('/', 2)[-1]}:{code.co_name}:{f.f_lineno}"
                    )
                    f = f.f_back
                if "selectors" in where[0] or "threading.py:wait" in where[0]:
                    continue
                stacks.append(f"{names.get(ident, ident)}<{' < '.join(where)}>")
            events.append((before, now, "stall " + " // ".join(stacks)))

    thread = threading.Thread(target=run, name="bench-stall-watch", daemon=True)
    thread.start()
    return thread


async def _run(upstream: str, requests: int, events: list[Event]) -> list[Marks]:
    os.environ["BASTION_DATA_DIR"] = tempfile.mkdtemp(prefix="bastion-c1-spans-")
    os.environ["BASTION_ADMIN_KEY"] = KEY
    os.environ["BASTION_CONFIG"] = str(bastion_config(upstream, only_issue3=False))
    os.environ["BASTION_LOGGING__LEVEL"] = "warning"
    marks: list[Marks] = []
    _instrument(marks, events)
    from bastion.app import app_from_environment
    from bastion.bootstrap import prepare
    from bastion.settings import load_settings

    await prepare(load_settings(), lambda *_: None)
    app: Any = app_from_environment()
    got: list[Marks] = []
    async with app.router.lifespan_context(app) as state:
        for n in range(300 + requests):
            body = BODY.replace("hello there", f"hello there, message {n}").encode()
            m: Marks = {}
            marks.append(m)
            sent = False

            async def receive(body: bytes = body) -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                raise AssertionError("one body only")

            async def send(message: dict[str, Any], m: Marks = m) -> None:
                if message["type"] == "http.response.start":
                    m.setdefault("response_start", time.perf_counter())
                    m["status"] = message["status"]

            m["start"] = time.perf_counter()
            await app(scope(state or {}, len(body), key=KEY), receive, send)
            m["end"] = time.perf_counter()
            if n >= 300:
                got.append(m)
            elif n == 299:
                events.clear()
    return got


_SPANS = (
    ("start", "execute_start", "in: edge, auth, admit, route, guard … to the upstream call"),
    ("execute_start", "execute_end", "upstream call (execute stage)"),
    ("execute_end", "audit_handed", "out: inner stages' way out, audit entry built"),
    ("audit_handed", "writer_begin", "hand-off to the writer thread"),
    ("writer_begin", "commit_start", "writer: lock, head, seal, insert"),
    ("commit_start", "commit_end", "writer: COMMIT (the fsync)"),
    ("commit_end", "record_start", "writer done → waiter resumed (thread hop back)"),
    ("audit_handed", "record_start", "audit handed → record stage starts"),
    ("record_start", "record_end", "record stage (metrics, log, alert signals)"),
    ("record_end", "response_start", "record end → answer's first byte handed to the server"),
    ("audit_handed", "response_start", "audit handed → first byte"),
    ("start", "response_start", "whole: start → first byte"),
    ("start", "end", "whole: start → end"),
)


def _event_counts(events: list[Event]) -> dict[str, Any]:
    kinds: dict[str, list[float]] = {}
    for s, e, what in events:
        kinds.setdefault(what.split(" x")[0][: 5 if what.startswith("stall") else None], []).append(
            (e - s) * 1e3
        )
    return {
        k: {
            "n": len(v),
            "median_ms": round(statistics.median(v), 3),
            "max_ms": round(max(v), 2),
            "total_ms": round(sum(v), 1),
        }
        for k, v in sorted(kinds.items())
    }


def _behind_rows(got: list[Marks], events: list[Event]) -> dict[str, Any]:
    """The requests whose audit batch was handed over while another writer's rows were being
    inserted on the writer thread: how long until their batch began (ms)."""
    inserts = [(s, e) for s, e, w in events if w.startswith("insert")]
    waits = [
        (m["writer_begin"] - m["audit_handed"]) * 1e3
        for m in got
        if "writer_begin" in m and any(s < m["audit_handed"] < e for s, e in inserts)
    ]
    if not waits:
        return {"n": 0}
    return {
        "n": len(waits),
        "median_ms": round(statistics.median(waits), 3),
        "max_ms": round(max(waits), 3),
    }


def _slowest(got: list[Marks], events: list[Event], count: int = 20) -> list[str]:
    """The slowest requests: their longest spans and what overlapped them."""
    lines = []
    for m in sorted(got, key=lambda m: m["end"] - m["start"], reverse=True)[:count]:
        spans = sorted(
            ((m[b] - m[a]) * 1e3, what.split(":")[0])
            for a, b, what in _SPANS[:10]
            if a in m and b in m
        )[-2:]
        near = sorted(
            {f"{w} {(e - s) * 1e3:.2f}" for s, e, w in events if s < m["end"] and m["start"] < e}
        )
        took = (m["end"] - m["start"]) * 1e3
        lines.append(
            f"{took:.2f} ms; "
            + ", ".join(f"{w} {v:.2f}" for v, w in reversed(spans))
            + " | "
            + "; ".join(near)
        )
    return lines


def main(requests: int = 2000) -> str:
    import uvloop

    upstream_proc, upstream = start_upstream(cpu=1)
    try:
        events: list[Event] = []
        stop = threading.Event()
        if os.environ.get("STALLS"):
            _watch_stalls(events, stop)
        try:
            got = uvloop.run(_run(upstream, requests, events))
        finally:
            stop.set()
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    rows = {}
    for a, b, what in _SPANS:
        values = [(m[b] - m[a]) * 1e3 for m in got if a in m and b in m]
        if values:
            q = statistics.quantiles(values, n=100)
            rows[f"{a} → {b}: {what}"] = {
                "n": len(values),
                "p50_ms": round(q[49], 3),
                "p90_ms": round(q[89], 3),
                "p99_ms": round(q[98], 3),
            }
    statuses: dict[str, int] = {}
    for m in got:
        statuses[str(int(m.get("status", 0)))] = statuses.get(str(int(m.get("status", 0))), 0) + 1
    out = {
        "requests": requests,
        "statuses": statuses,
        "spans": rows,
        "events": _event_counts(events),
        "behind_rows": _behind_rows(got, events),
        "slowest": _slowest(got, events),
        "load": os.getloadavg(),
    }
    return orjson.dumps(out, option=orjson.OPT_INDENT_2).decode()


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
