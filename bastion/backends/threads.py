"""Each loaded model version's own bounded worker threads.

Blocking inference (Python functions, scikit-learn, ONNX batches) runs off the event loop. In
the loop's shared default executor a slow version (a canary) could take every thread and delay
the others; here each version has its own few threads, so a slow one queues only its own calls.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

THREADS_PER_VERSION = 4


class VersionThreads:
    """``await threads.run(fn, *args)`` runs ``fn`` on this version's threads."""

    def __init__(self, label: str, size: int = THREADS_PER_VERSION) -> None:
        self._pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix=f"model {label}")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
