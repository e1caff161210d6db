"""A child asked to end with its parent ends when the parent is killed outright."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.support import process_alive

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")

PARENT = """
import os, signal, subprocess, sys
from bastion.core.orphans import parent_death_signal
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"],
    preexec_fn=parent_death_signal(signal.SIGTERM, os.getpid()),
)
print(child.pid, flush=True)
sys.stdin.readline()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_child_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None and parent.stdin is not None
    child = int(parent.stdout.readline())
    assert process_alive(child)
    parent.stdin.write("\n")
    parent.stdin.flush()
    assert parent.wait(10) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while process_alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not process_alive(child)


def test_a_parent_already_gone_sends_the_signal_at_once() -> None:
    code = (
        "import os, signal, time\n"
        "from bastion.core.orphans import die_with_parent\n"
        "die_with_parent(signal.SIGTERM, os.getppid() + 1_000_000)\n"
        "time.sleep(30)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], timeout=20, check=False)
    assert done.returncode == -signal.SIGTERM
