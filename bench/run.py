"""`make bench`: run every benchmark and write bench/RESULTS.md (bounded, 127.0.0.1 only)."""

from __future__ import annotations

import datetime
import importlib
import shutil
import sys
from pathlib import Path

from bench.harness import machine

RESULTS = Path(__file__).with_name("RESULTS.md")
BENCHMARKS = [
    "predict_overhead",
    "gateway_overhead",
    "stream_continuation",
    "hot_path",
    "batching",
    "governance_overhead",
    "observability_overhead",
    "batch",
    "actions",
    "cli_startup",
    "console",
    "injection_screen",
    "cluster_capacity",
    "rag",
]


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed for the benchmarks: apt-get install -y wrk")
    names = sys.argv[1:] or BENCHMARKS
    sections = [importlib.import_module(f"bench.{name}").main() for name in names]
    today = datetime.date.today().isoformat()
    text = (
        "\n\n".join(
            [
                "# Benchmark results",
                f"Run {today} with `make bench` on: {machine()}.",
                *sections,
            ]
        )
        + "\n"
    )
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
