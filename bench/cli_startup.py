"""Issue 19 item 9: how long `bastion --help` and read-only commands take, end to end.

Each command runs as its own process, as a user runs it (interpreter start, imports, one
request to a local server for the read-only ones). Wall time is what a person waits; CPU time
(user + system of the child) is what the command itself costs, and stays meaningful on a busy
machine where wall time also counts waiting for a core. With hyperfine installed (apt-get
install hyperfine) its figures are used for the wall time; otherwise a timing loop.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import start_bastion

RUNS = 15
TARGET_S = 0.3
BASTION = str(Path(sys.executable).with_name("bastion"))
COMMANDS = [
    ("bastion --help", ["--help"]),
    ("bastion models --help", ["models", "--help"]),
    ("bastion models list", ["models", "list"]),
    ("bastion alerts list", ["alerts", "list"]),
    ("bastion canary status d", ["canary", "status", "d"]),
]


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _loop(args: list[str], env: dict[str, str], cwd: str) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(RUNS):
        cpu0, t0 = _child_cpu(), time.perf_counter()
        done = subprocess.run([BASTION, *args], env=env, cwd=cwd, capture_output=True, check=False)
        walls.append(time.perf_counter() - t0)
        cpus.append(_child_cpu() - cpu0)
        if done.returncode != 0:
            raise RuntimeError(f"bastion {' '.join(args)}: {done.stderr.decode()[:300]}")
    return walls, cpus


def _hyperfine(args: list[str], env: dict[str, str], cwd: str) -> list[float] | None:
    if not shutil.which("hyperfine"):
        return None
    out = Path(tempfile.mkdtemp()) / "hf.json"
    command = " ".join([BASTION, *args])
    runs = ["--runs", str(RUNS), "--warmup", "2"]
    subprocess.run(
        ["hyperfine", "-N", *runs, "--export-json", str(out), command],
        env=env,
        cwd=cwd,
        capture_output=True,
        check=True,
    )
    return list(json.loads(out.read_text())["results"][0]["times"])


def main() -> str:
    config = Path(tempfile.mkdtemp()) / "bastion.yaml"
    config.write_text(
        "deployments: [{name: d, model: m}]\n"
        "rollouts: {deployments: [{deployment: d, canary: {steps: [10, 100]}}]}\n"
    )
    server = start_bastion(extra_env={"BASTION_DEMO": "false", "BASTION_CONFIG": str(config)})
    cwd = tempfile.mkdtemp(prefix="bastion-cli-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    env.update({"BASTION_URL": server.url, "BASTION_KEY": server.key, "COLUMNS": "120"})
    rows = []
    try:
        for name, args in COMMANDS:
            walls, cpus = _loop(args, env, cwd)
            walls = _hyperfine(args, env, cwd) or walls
            wall, cpu = statistics.median(walls), statistics.median(cpus)
            verdict = "meets" if wall <= TARGET_S else "MISSES"
            rows.append(
                f"| `{name}` | {wall * 1000:.0f} | {min(walls) * 1000:.0f} | "
                f"{cpu * 1000:.0f} | {verdict} |"
            )
    finally:
        server.stop()
    load = os.getloadavg()[0]
    return "\n".join(
        [
            "### CLI start-up — issue 19 item 9",
            "",
            "| command | wall ms (median) | wall ms (best) | CPU ms (median) | ≤ 300 ms wall |",
            "|---|---:|---:|---:|---|",
            *rows,
            "",
            f"{RUNS} runs each, one process per run, against a local server (no demo models); "
            f"{'hyperfine' if shutil.which('hyperfine') else 'a timing loop'}; load average "
            f"{load:.1f} when it ended. The read-only commands make one request each.",
        ]
    )


if __name__ == "__main__":
    print(main())
