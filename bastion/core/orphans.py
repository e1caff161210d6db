"""A child process that ends with its parent, even when the parent is killed with SIGKILL.

Linux delivers a chosen signal to a process whose parent *thread* ends (``PR_SET_PDEATHSIG``);
the setting survives ``exec``. A parent that already died before the setting took effect is
caught by comparing ``getppid()`` with the pid the parent had. On other systems this is a
no-op, and an orphan lives on as it would without it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def parent_death_signal(
    sig: int = signal.SIGTERM, parent_pid: int | None = None
) -> Callable[[], bool]:
    """A function that, run in the child, asks for ``sig`` when the parent ends (True when the
    kernel took the request); when ``parent_pid`` is given and the parent is already gone,
    ``sig`` is sent at once.

    The C library is looked up here, in the caller: used as a ``preexec_fn`` the function only
    makes the system call between fork and exec, where loading a library could deadlock on a
    lock another thread held at the fork."""
    if not sys.platform.startswith("linux"):
        return lambda: False
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def ask() -> bool:
        if prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
            return False
        if parent_pid is not None and os.getppid() != parent_pid:
            os.kill(os.getpid(), sig)
        return True

    return ask


def die_with_parent(sig: int = signal.SIGTERM, parent_pid: int | None = None) -> bool:
    """Ask, from the running child, for ``sig`` when its parent ends (see above)."""
    return parent_death_signal(sig, parent_pid)()
