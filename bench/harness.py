"""Benchmark plumbing: a pinned server process, wrk runs, and machine facts."""

from __future__ import annotations

import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} vCPU ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )


def pinned(cmd: list[str], cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if shutil.which("taskset") else cmd


@dataclass
class RunningServer:
    url: str
    key: str
    proc: subprocess.Popen[bytes]
    data_dir: Path

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_bastion(cpu: int = 0, extra_env: dict[str, str] | None = None) -> RunningServer:
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    port, key = free_port(), "bst_bench_" + os.urandom(8).hex()
    env = {
        **os.environ,
        "BASTION_DATA_DIR": str(data_dir),
        "BASTION_ADMIN_KEY": key,
        "BASTION_LOGGING__LEVEL": "warning",
        **(extra_env or {}),
    }
    bastion = str(Path(sys.executable).with_name("bastion"))
    proc = subprocess.Popen(
        pinned([bastion, "serve", "--port", str(port)], cpu),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return RunningServer(url, key, proc, data_dir)
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("bastion did not become ready")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not m:
        raise ValueError(f"unparsed wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _lua(text: str) -> str:
    """``text`` as a Lua string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(
    url: str,
    body: str,
    key: str,
    connections: int,
    seconds: int,
    cpu: int = 1,
    bodies: Sequence[str] = (),
) -> WrkResult:
    """POST ``body`` to ``url`` with wrk (one thread, on the other CPU); with ``bodies``,
    each request takes the next of them in turn instead."""
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    lines = [
        'wrk.method = "POST"',
        f"wrk.body = {_lua(body)}",
        'wrk.headers["Content-Type"] = "application/json"',
        f'wrk.headers["Authorization"] = "Bearer {key}"',
    ]
    if bodies:
        lines += [
            "local bodies = {" + ", ".join(_lua(b) for b in bodies) + "}",
            "local n = 0",
            "request = function()",
            "  n = n % #bodies + 1",
            "  return wrk.format(nil, nil, nil, bodies[n])",
            "end",
        ]
    script.write_text("\n".join(lines) + "\n")
    cmd = pinned(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        cpu,
    )
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    script.unlink()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return WrkResult(rps, p50, p99, int(errs.group(1)) if errs else 0)
