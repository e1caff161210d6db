"""`bastion bench DEPLOYMENT --peak RPS`: a load test at 2x the declared peak through the
real server, shown live, judged against the SLO and recorded on the server for `bastion check`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, err_console


def _target(client: AdminClient, name: str, body: str | None) -> tuple[str, bytes]:
    """The route and body: predict for a deployment, chat completions for an LLM group."""
    from bastion.readiness.examples import example_for

    deployments = {d["name"]: d for d in client.get("/v1/deployments")["data"]}
    if name in deployments:
        path = f"/v1/deployments/{name}/predict"
        payload: Any = {"input": example_for(deployments[name].get("input_schema"))}
    else:
        path = "/v1/chat/completions"
        payload = {
            "model": name,
            "messages": [{"role": "user", "content": "Reply with one word: ready?"}],
            "max_tokens": 8,
            "temperature": 0,
        }
    if body is not None:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            err_console.print(f"[red]error:[/red] --body is not valid JSON: {exc}")
            raise typer.Exit(2) from exc
    return path, orjson.dumps(payload)


def _panel(plan: Any, stats: Any) -> Any:
    from rich.table import Table

    def ms(q: float) -> str:
        value = stats.quantile_ms(q)
        return "-" if value is None else f"{value:.1f} ms"

    table = Table(title=f"bastion bench: {plan.target_rps:g} rps (2x peak {plan.peak_rps:g})")
    table.add_column("elapsed")
    table.add_column("sent / planned", justify="right")
    table.add_column("ok", justify="right")
    table.add_column("errors", justify="right")
    table.add_column("rps", justify="right")
    table.add_column("p50", justify="right")
    table.add_column("p95", justify="right")
    table.add_column("p99", justify="right")
    table.add_row(
        f"{stats.elapsed_s:.1f}s / {plan.duration_s:g}s",
        f"{stats.sent} / {plan.total}",
        str(stats.ok),
        str(stats.done - stats.ok),
        f"{stats.achieved_rps:.1f}",
        ms(0.5),
        ms(0.95),
        ms(0.99),
    )
    return table


async def _drive(plan: Any, live: bool) -> Any:
    from rich.live import Live

    from bastion.readiness.loadtest import Stats, run

    stats = Stats()
    if not live:
        return await run(plan, stats)
    with Live(_panel(plan, stats), console=console.rich(), refresh_per_second=4) as view:
        task = asyncio.create_task(run(plan, stats))
        while not task.done():
            view.update(_panel(plan, stats))
            await asyncio.sleep(0.25)
        view.update(_panel(plan, stats))
        return await task


def bench(
    deployment: str = typer.Argument(..., help="a deployment or LLM group"),
    peak: float = typer.Option(..., "--peak", min=0.01, help="the declared peak, requests/s"),
    duration: float = typer.Option(10.0, min=1, max=300, help="seconds of load (at most 300)"),
    max_requests: int = typer.Option(20_000, min=1, max=200_000, help="bound on requests"),
    concurrency: int = typer.Option(64, min=1, max=4096, help="requests in flight at most"),
    body: str | None = typer.Option(None, help="the JSON body to send (default: an example)"),
    slo_p95_ms: float | None = typer.Option(None, help="default: the server's readiness SLO"),
    slo_error_rate: float | None = typer.Option(None, help="default: the server's readiness SLO"),
    allow_remote: bool = typer.Option(
        False, "--allow-remote", help="load a server that is not on this machine (loopback)"
    ),
    record: bool = typer.Option(True, "--record/--no-record", help="record it for `check`"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Load-test DEPLOYMENT at 2x --peak through the running server, live, bounded in time
    (--duration) and count (--max-requests); verdict against the SLO; exit 1 if it fails.

    Only loopback servers unless --allow-remote: a load test is a deliberate act."""
    from bastion.readiness.loadtest import Plan, is_loopback, verdict

    client = AdminClient.resolve(url, key, config)
    if not is_loopback(client.base_url) and not allow_remote:
        err_console.print(
            f"[red]error:[/red] {client.base_url} is not on this machine; a load test on a "
            "remote server needs --allow-remote"
        )
        raise typer.Exit(2)
    readiness = client.get("/v1/admin/readiness/facts")["readiness"]
    p95_slo = slo_p95_ms if slo_p95_ms is not None else readiness["slo_p95_ms"]
    err_slo = slo_error_rate if slo_error_rate is not None else readiness["slo_error_rate"]
    path, payload = _target(client, deployment, body)
    headers = {"content-type": "application/json"}
    if client.key:
        headers["authorization"] = f"Bearer {client.key}"
    plan = Plan(client.base_url + path, payload, headers, peak, duration, max_requests, concurrency)
    stats = asyncio.run(_drive(plan, console.is_terminal))
    if not console.is_terminal:
        console.print(_panel(plan, stats))
    result = verdict(plan, stats, p95_slo, err_slo)
    summary = (
        f"{stats.done} requests at {stats.achieved_rps:.1f} rps (target {plan.target_rps:g}), "
        f"p95 {stats.quantile_ms(0.95) or 0:.1f} ms, errors {stats.error_rate:.2%}"
    )
    console.print(("[green]PASS[/green] " if result.passed else "[red]FAIL[/red] ") + summary)
    for reason in result.reasons:
        console.print(f"  - {reason}")
    if record:
        details = {
            "peak_rps": peak,
            "target_rps": plan.target_rps,
            "achieved_rps": round(stats.achieved_rps, 2),
            "duration_s": round(stats.elapsed_s, 2),
            "requests": stats.done,
            "error_rate": round(stats.error_rate, 5),
            "failures": dict(stats.failures),
            "p50_ms": stats.quantile_ms(0.5),
            "p95_ms": stats.quantile_ms(0.95),
            "p99_ms": stats.quantile_ms(0.99),
            "slo_p95_ms": p95_slo,
            "slo_error_rate": err_slo,
            "route": path,
            "reasons": list(result.reasons),
        }
        body_ = {"kind": "load_test", "subject": deployment, "passed": result.passed}
        saved = client.post(
            "/v1/admin/operations/records", {**body_, "summary": summary, "details": details}
        )
        console.print(f"recorded as operation record {saved['id']}")
    if not result.passed:
        raise typer.Exit(1)
