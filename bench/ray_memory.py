"""Where a local Ray's memory is during a bench run: the driver, its worker processes, the
object store.

A thread samples ``/proc`` every ``interval`` seconds: the driver's resident memory split
into anonymous (its own heap) and shared (pages of the object store it has mapped, counted
in its RSS although the store owns them), and the resident memory of every process below
the driver (the local Ray's GCS, raylet and workers; the object store's pages are counted
once per process that touched them, so the sum overstates). The object store's own figure is
``/dev/shm`` in use, where plasma keeps its memory-mapped file on Linux.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def _status_kb(pid: int, keys: tuple[str, ...]) -> dict[str, int]:
    out = dict.fromkeys(keys, 0)
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in out:
                out[name] = int(value.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return out


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text().split()
            found.extend(int(c) for c in text)
    except (FileNotFoundError, ProcessLookupError):
        pass
    return found


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        for child in _children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def _shm_used() -> int:
    try:
        usage = shutil.disk_usage("/dev/shm")
    except OSError:
        return 0
    return usage.used


class MemorySampler:
    """Peaks of the driver's and its descendants' memory, sampled in a thread."""

    def __init__(self, interval: float = 0.25) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="mem-sampler")
        self._shm_base = _shm_used()
        self._peak: dict[str, float] = {
            "driver_anon_mb": 0.0,
            "driver_shmem_mb": 0.0,
            "driver_rss_mb": 0.0,
            "ray_processes_rss_mb": 0.0,
            "ray_processes": 0.0,
            "object_store_shm_mb": 0.0,
        }

    def start(self) -> None:
        self._thread.start()

    def _sample(self) -> None:
        me = _status_kb(os.getpid(), ("VmRSS", "RssAnon", "RssShmem"))
        kids = descendants(os.getpid())
        kids_kb = sum(_status_kb(k, ("VmRSS",))["VmRSS"] for k in kids)
        now = {
            "driver_anon_mb": me["RssAnon"] / 1024,
            "driver_shmem_mb": me["RssShmem"] / 1024,
            "driver_rss_mb": me["VmRSS"] / 1024,
            "ray_processes_rss_mb": kids_kb / 1024,
            "ray_processes": float(len(kids)),
            "object_store_shm_mb": max(0, _shm_used() - self._shm_base) / MB,
        }
        for key, value in now.items():
            self._peak[key] = max(self._peak[key], value)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def stop(self) -> dict[str, Any]:
        self._sample()
        self._stop.set()
        self._thread.join()
        return {f"peak_{k}": round(v, 1) for k, v in self._peak.items()}
