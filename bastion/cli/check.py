"""`bastion check`: the production-readiness audit of a running server (docs/check.md).

A client of the admin API: it reads the server's facts and records, and asks it to run the
drills (a real rollback and back, a test notification). Exit code 1 when an item fails.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, ApiError, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console


@dataclass(frozen=True, slots=True)
class _Api:
    """The CLI's client, with refusals raised as ``readiness.Refused`` for the checks."""

    client: AdminClient

    @property
    def base_url(self) -> str:
        return self.client.base_url

    def _send(self, method: str, path: str, **kw: Any) -> Any:
        from bastion.readiness import Refused

        try:
            response = self.client.send(method, path, raise_errors=True, **kw)
        except ApiError as exc:
            raise Refused(exc.status, exc.type, exc.message) from exc
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self._send("POST", path, json=body, params=params)


def check(
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
    format: str = typer.Option("table", "--format", help="table, json or junit"),
    output: Path | None = typer.Option(None, "--output", "-o", help="also write it here"),
    drills: bool = typer.Option(
        True, "--drills/--no-drills", help="run the rollback drill and the test notification"
    ),
) -> None:
    """Audit a running deployment: reliability, observability, security, cost, operations,
    data and model items, each pass/warn/fail with evidence and the fix, scored like Google's
    ML Test Score. Exits 1 if any item fails (for CI and deploy gates)."""
    from bastion.readiness import Context, run_checks, score
    from bastion.readiness.checks import ALL_CHECKS
    from bastion.readiness.report import as_dict, as_junit, as_table

    if format not in ("table", "json", "junit"):
        raise typer.BadParameter("choose table, json or junit", param_hint="--format")
    api = _Api(AdminClient.resolve(url, key, config))
    facts = api.get("/v1/admin/readiness/facts")
    ctx = Context(api=api, facts=facts, now=datetime.now(UTC), drills=drills)
    results = run_checks(ALL_CHECKS, ctx)
    total = score(results)
    if format == "json":
        text = json.dumps(as_dict(results, total, api.base_url), indent=2)
    elif format == "junit":
        text = as_junit(results, total)
    else:
        text = ""
        console.print(as_table(results, total))
    if text:
        console.file.write(text + "\n")
    if output is not None:
        output.write_text(text or json.dumps(as_dict(results, total, api.base_url), indent=2))
    if total.failed:
        raise typer.Exit(1)
