"""Issue 3 benchmark: chat completions through Bastion and through LiteLLM's proxy, same upstream.

The upstream is Bastion's own fault upstream with no fault set (it answers in well under a
millisecond). Each gateway runs as one process pinned to CPU 0; wrk runs pinned to CPU 1.
LiteLLM is installed by this script into its own virtualenv (bench/.litellm-venv).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import yaml

from bench.harness import ROOT, WrkResult, free_port, pinned, start_bastion, wrk

LITELLM_VENV = ROOT / "bench" / ".litellm-venv"
LITELLM_KEY = "sk-" + "b" * 64  # the proxy refuses to start without a master key
BODY = orjson.dumps(
    {"model": "bench", "messages": [{"role": "user", "content": "hello there"}], "max_tokens": 16}
).decode()


def start_upstream(cpu: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    bastion = str(Path(sys.executable).with_name("bastion"))
    proc = subprocess.Popen(
        pinned([bastion, "chaos", "upstream", "--port", str(port)], cpu),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    _wait(url + "/models")
    return proc, url


def _wait(url: str, timeout: float = 120, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1, headers=headers).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def ensure_litellm() -> Path | None:
    python = LITELLM_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LITELLM_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "litellm[proxy]"], check=False)
    litellm = LITELLM_VENV / "bin" / "litellm"
    return litellm if litellm.exists() else None


def start_litellm(upstream: str, cpu: int = 0) -> tuple[subprocess.Popen[bytes], str] | None:
    litellm = ensure_litellm()
    if litellm is None:
        return None
    cfg = Path(tempfile.mkdtemp()) / "litellm.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "model_list": [
                    {
                        "model_name": "bench",
                        "litellm_params": {
                            "model": "openai/bench",
                            "api_base": upstream,
                            "api_key": "sk-bench",
                        },
                    }
                ],
                "litellm_settings": {"telemetry": False, "drop_params": True},
            }
        )
    )
    port = free_port()
    env = {
        **os.environ,
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "LITELLM_MASTER_KEY": LITELLM_KEY,
    }
    proc = subprocess.Popen(
        pinned(
            [str(litellm), "--config", str(cfg), "--port", str(port), "--num_workers", "1"], cpu
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url + "/health/liveliness", timeout=180)
    return proc, url


# The later issues' stages, switched off for the issue-3 figure (their own benches measure them).
LATER_ISSUES_OFF = {
    "audit": {"enabled": False},
    "guards": {"llm": {"pii": "allow", "injection": "off"}},
    "monitoring": {"enabled": False},
    "observability": {"request_log": False, "metrics_enabled": False},
    "alerts": {"enabled": False},
    "governance": {"record_usage": False},
}


def bastion_config(upstream: str, *, only_issue3: bool = True) -> Path:
    cfg = Path(tempfile.mkdtemp()) / "bastion.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                **(LATER_ISSUES_OFF if only_issue3 else {}),
                "demo": False,
                "llm": {
                    "groups": [
                        {
                            "name": "bench",
                            "fallbacks": ["spare"],
                            "upstreams": [
                                {
                                    "base_url": upstream,
                                    "model": "bench",
                                    "api_key": "sk-bench",
                                    "input_price_per_1m": 1.0,
                                    "output_price_per_1m": 2.0,
                                }
                            ],
                        },
                        {"name": "spare", "upstreams": [{"base_url": upstream, "model": "spare"}]},
                    ]
                },
            }
        )
    )
    return cfg


def _row(name: str, c: int, r: WrkResult, base: WrkResult | None) -> str:
    added = f"{r.p50_ms - base.p50_ms:.3f}" if base else "—"
    return (
        f"| {name} | {c} | {r.rps:,.0f} | {r.p50_ms:.3f} | {r.p99_ms:.3f} | {added} | {r.errors} |"
    )


def main(seconds: int = 8) -> str:
    upstream_proc, upstream = start_upstream(cpu=1)
    rows: list[str] = []
    results: dict[tuple[str, int], WrkResult] = {}
    try:
        direct = {
            c: wrk(upstream + "/chat/completions", BODY, "sk-bench", c, seconds)
            for c in (1, 16, 64)
        }
        for name, only_issue3 in (("bastion", True), ("bastion-all", False)):
            config = bastion_config(upstream, only_issue3=only_issue3)
            server = start_bastion(cpu=0, extra_env={"BASTION_CONFIG": str(config)})
            try:
                url = server.url + "/v1/chat/completions"
                wrk(url, BODY, server.key, 8, 3)
                for c in (1, 16, 64):
                    results[(name, c)] = wrk(url, BODY, server.key, c, seconds)
            finally:
                server.stop()
        lite = start_litellm(upstream, cpu=0)
        if lite is not None:
            proc, lurl = lite
            try:
                wrk(lurl + "/v1/chat/completions", BODY, LITELLM_KEY, 8, 3)
                for c in (1, 16, 64):
                    results[("litellm", c)] = wrk(
                        lurl + "/v1/chat/completions", BODY, LITELLM_KEY, c, seconds
                    )
            finally:
                proc.terminate()
                proc.wait(20)
    finally:
        upstream_proc.terminate()
        upstream_proc.wait(20)
    for c in (1, 16, 64):
        rows.append(_row("upstream direct", c, direct[c], None))
        rows.append(_row("Bastion, issue-3 features", c, results[("bastion", c)], direct[c]))
        rows.append(_row("Bastion, every default on", c, results[("bastion-all", c)], direct[c]))
        if ("litellm", c) in results:
            rows.append(_row("LiteLLM proxy", c, results[("litellm", c)], direct[c]))
    lines = [
        "### LLM gateway overhead — issue 3",
        "",
        "Non-streaming chat completions against the bundled fault upstream (no fault set), "
        "every issue-3 feature on in Bastion (auth, group routing with least-busy balancing, "
        "retry policy and budget, circuit breaker, bulkheads, fallback chain configured, cache "
        "stage consulted, usage and cost accounting). The second Bastion row keeps every "
        "default of the later issues on as well: PII redaction and the injection screen (its "
        "per-message cache hits here, as wrk repeats one prompt; an uncached check is measured "
        "in the governance section), the fsync'd audit log, the prediction log, usage rows, "
        "request logs, metrics and alert signals.",
        "",
        "| through | concurrency | req/s | p50 ms | p99 ms | added p50 ms | non-2xx |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rows,
    ]
    if ("litellm", 64) in results:
        ratio = results[("bastion", 64)].rps / max(results[("litellm", 64)].rps, 1e-9)
        added = results[("bastion", 1)].p50_ms - direct[1].p50_ms
        lines += [
            "",
            f"Bastion / LiteLLM throughput at concurrency 64: **{ratio:.1f}×** "
            f"(target ≥ 10×). Bastion's added p50 at concurrency 1: **{added:.3f} ms** "
            "(target ≤ 0.5 ms).",
        ]
    else:
        lines += ["", "LiteLLM could not be installed into bench/.litellm-venv on this run."]
    return "\n".join(lines)
