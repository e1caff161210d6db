"""The SQLite file's one writer thread, with two queues: audit batches go first.

A request at concurrency 1 waits for its audit record's commit; the file's other steady
writers (the usage and prediction logs, ``store/row_writer.py``) write batches of hundreds of
rows on the same thread, 1–4 ms each. Through one FIFO an audit batch that arrived during such
a batch waited for all of it: most of the c=1 tail. Here an urgent job (an audit batch) is
taken before the others, and a job that runs long asks ``urgent_waiting`` between its
slices and lets the urgent ones run (``serve_urgent``) before it goes on, on the same thread
and connection. Otherwise an ``Executor`` of one thread (``submit`` queues a plain job).

Urgent first, but never urgent only: after an urgent job, a waiting plain job has the next
turn. Under a steady stream of audit batches (any load that keeps the thread busy) a strict
priority would never reach the usage and prediction logs, whose rows would pile up in memory
without bound; with turns, an audit batch still waits for at most one 16-row slice.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class _Job:
    future: Future[Any]
    run: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class WriterThread(Executor):
    """One thread running the jobs handed to it: urgent ones before the others."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._urgent: deque[_Job] = deque()
        self._plain: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._plain_turn = False  # set after an urgent job: a waiting plain job goes next

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue ``fn`` behind every job queued before it and every urgent one."""
        return self._queue(self._plain, fn, args, kwargs)

    def submit_urgent(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        """Queue ``fn`` before every plain job not yet started (after the urgent ones)."""
        return self._queue(self._urgent, fn, args, {})

    def urgent_waiting(self) -> bool:
        """Whether an urgent job is queued (asked by a long job between its slices)."""
        return bool(self._urgent)

    def serve_urgent(self) -> None:
        """Run the urgent jobs queued now, on this thread (from inside a long job)."""
        while True:
            with self._ready:
                if not self._urgent:
                    return
                job = self._urgent.popleft()
            _run(job)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Run what is queued, then stop the thread; safe to call again."""
        with self._ready:
            self._closed = True
            if cancel_futures:
                for job in (*self._urgent, *self._plain):
                    job.future.cancel()
                self._urgent.clear()
                self._plain.clear()
            thread = self._thread
            self._ready.notify()
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    def _queue(
        self,
        queue: deque[_Job],
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Future[Any]:
        job = _Job(Future(), fn, args, kwargs)
        with self._ready:
            if self._closed:
                raise RuntimeError(f"cannot schedule new jobs: {self._name} is shut down")
            queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
            self._ready.notify()
        return job.future

    def _serve(self) -> None:
        while True:
            with self._ready:
                while not self._urgent and not self._plain:
                    if self._closed:
                        return
                    self._ready.wait()
                if self._plain and (self._plain_turn or not self._urgent):
                    job, self._plain_turn = self._plain.popleft(), False
                else:
                    job, self._plain_turn = self._urgent.popleft(), True
            _run(job)


def _run(job: _Job) -> None:
    if not job.future.set_running_or_notify_cancel():
        return
    try:
        value = job.run(*job.args, **job.kwargs)
    except BaseException as exc:  # handed to the caller, as a ThreadPoolExecutor would
        job.future.set_exception(exc)
    else:
        job.future.set_result(value)
