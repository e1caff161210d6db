"""`bastion chaos upstream` serves the fault upstream from the command line."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.server import free_port
from tests.support import ends_with_this_process


def test_chaos_upstream_command() -> None:
    port = free_port()
    bastion = str(Path(sys.executable).with_name("bastion"))
    proc = subprocess.Popen(
        [bastion, "chaos", "upstream", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=ends_with_this_process(),  # noqa: PLW1509 (only a system call; see there)
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/v1/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "chaos upstream did not start"
                time.sleep(0.1)
        r = httpx.post(url + "/_control/faults", json={"model": "m", "fault": "unavailable"})
        assert r.status_code == 200
        chat = httpx.post(
            url + "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
        )
        assert chat.status_code == 503
    finally:
        proc.terminate()
        proc.wait(10)
