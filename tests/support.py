"""What many tests share: the fake wall clock, skip-or-fail for an absent service, and child
processes that end with the test run.

Monotonic time is ``bastion.core.FakeClock`` (also callable, for the stores that take a
``() -> float``); wall-clock time for records is ``WallClock`` here.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NoReturn

import httpx
import pytest

from bastion.core.orphans import parent_death_signal


class WallClock:
    """A wall clock the test moves by hand; ``tick_s`` advances it on every reading (for
    stores that need distinct timestamps)."""

    def __init__(self, start: datetime | None = None, *, tick_s: float = 0.0) -> None:
        self.now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._tick = timedelta(seconds=tick_s)

    def __call__(self) -> datetime:
        self.now += self._tick
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def service_unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it when ``BASTION_REQUIRE_SERVICES=1`` (as CI sets)."""
    if os.environ.get("BASTION_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (BASTION_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def error_of(response: httpx.Response) -> tuple[str, str]:
    """(type, message) of an error answer in either shape: Bastion's and OpenAI's
    (``{"error": {"type", "message", ...}}``) or the Open Inference Protocol's on ``/v2``
    (``{"error": "<message>"}``, the type in ``x-bastion-error-type``)."""
    error = response.json()["error"]
    if isinstance(error, str):
        return response.headers.get("x-bastion-error-type", ""), error
    return str(error["type"]), str(error["message"])


def ends_with_this_process() -> Callable[[], object] | None:
    """A ``preexec_fn`` for a server a test starts: SIGTERM when the test run dies, even by
    SIGKILL, so that no server outlives it. None off the main thread: the kernel ties the
    signal to the *thread* that started the child, and a server started from a helper thread
    would end with that thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return parent_death_signal(signal.SIGTERM, os.getpid())


def process_alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a reaped or never-started process does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def relatively_close(ours: float, theirs: float, rtol: float) -> bool:
    """``ours`` within ``rtol`` of a reference p-value ``theirs``; one the reference gives as
    subnormal or zero is only required to be as small (the ports' tests against SciPy)."""
    if theirs < 1e-290:
        return ours < 1e-280
    return abs(ours - theirs) <= rtol * theirs
