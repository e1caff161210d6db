"""`bastion review …`: work the review queue and export corrections, through a running server.

The queue is worked over the HTTP API with the reviewer's own key (``--key`` or
``$BASTION_KEY``), so that tenant scoping, leases, webhooks, audit and accuracy feedback all
happen in the server, exactly as for the web API.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.table import Table

from bastion.cli.common import ConfigOption, console, dump, err_console, settings_from

app = typer.Typer(
    help="Human review: list, claim, approve, correct, reject, escalate, export.",
    no_args_is_help=True,
)

UrlOption = typer.Option(None, "--url", envvar="BASTION_URL", help="server (default: config)")
KeyOption = typer.Option(
    None, "--key", envvar="BASTION_KEY", help="your API key (default: the admin key)"
)
ReasonOption = typer.Option(..., "--reason", "-r", help="why (recorded with the decision)")


class _Api:
    def __init__(self, url: str | None, key: str | None, config: Path | None) -> None:
        settings = settings_from(config)
        server = settings.server
        scheme = "https" if server.ssl_certfile else "http"
        self.url = (url or f"{scheme}://{server.host}:{server.port}").rstrip("/")
        admin = settings.security.admin_key
        secret = key or (admin.get_secret_value() if admin else None)
        self.headers = {"authorization": f"Bearer {secret}"} if secret else {}

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            response = httpx.request(
                method, self.url + path, headers=self.headers, timeout=60, **kw
            )
        except httpx.HTTPError as exc:
            err_console.print(
                f"[red]error:[/red] cannot reach Bastion at {self.url} ({type(exc).__name__}); "
                "is `bastion serve` running? Pass --url or set BASTION_URL"
            )
            raise typer.Exit(1) from exc
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                message = f"{error['type']}: {error['message']}"
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status_code}: {response.text[:200]}"
            err_console.print(f"[red]error ({response.status_code}):[/red] {message}")
            raise typer.Exit(1)
        return response


def _json_value(text: str) -> Any:
    """JSON, or else the text itself: ``billing_question`` names a label as well as
    ``'"billing_question"'`` does (the server completes the rest of the output)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@app.command("list")
def list_items(
    status: str = typer.Option("pending", help="pending|approved|corrected|rejected|overridden"),
    deployment: str | None = typer.Option(None),
    limit: int = typer.Option(50, min=1, max=500),
    as_json: bool = typer.Option(False, "--json", help="print the items as JSON"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Your tenants' queue, most urgent first."""
    params: dict[str, Any] = {"status": status, "limit": limit}
    if deployment:
        params["deployment"] = deployment
    items = _Api(url, key, config).call("GET", "/v1/review/items", params=params).json()["data"]
    if as_json:
        dump(items)
        return
    table = Table("deployment", "v", "triggers", "prio", "tier", "conf", "status", "claimed")
    table.add_column("id", no_wrap=True, min_width=28)
    for i in items:
        conf = "" if i["confidence"] is None else f"{i['confidence']:.2f}"
        table.add_row(
            i["deployment"],
            str(i["version"]),
            ",".join(i["triggers"]),
            str(i["priority"]),
            str(i["tier"]),
            conf,
            i["status"],
            i["claimed_by"] or "",
            i["id"],
        )
    console.print(table)


@app.command()
def show(
    item_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """One item: input, model output, confidence, and its history."""
    dump(_Api(url, key, config).call("GET", f"/v1/review/items/{item_id}").json())


@app.command()
def claim(
    item_id: str | None = typer.Argument(None, help="default: the most urgent free item"),
    deployment: str | None = typer.Option(None, help="claim the next item of this deployment"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Lease an item so that nobody else decides it meanwhile."""
    api = _Api(url, key, config)
    if item_id:
        dump(api.call("POST", f"/v1/review/items/{item_id}/claim").json())
    else:
        body = {"deployment": deployment} if deployment else {}
        dump(api.call("POST", "/v1/review/claim", json=body).json())


@app.command()
def release(
    item_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Give a claimed item back to the queue."""
    _Api(url, key, config).call("POST", f"/v1/review/items/{item_id}/release")
    console.print(f"released {item_id}")


def _decide(api: _Api, item_id: str, body: dict[str, Any]) -> None:
    done = api.call("POST", f"/v1/review/items/{item_id}/decide", json=body).json()
    console.print(f"{item_id}: {done['status']} (tier {done['tier']})")


@app.command()
def approve(
    item_id: str,
    reason: str = typer.Option("", "--reason", "-r"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The model's output is right."""
    _decide(_Api(url, key, config), item_id, {"action": "approve", "reason": reason})


@app.command()
def correct(
    item_id: str,
    output: str = typer.Option(
        ..., "--output", "-o", help="the right output: a label, a value or a text (JSON for more)"
    ),
    reason: str = ReasonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Replace the model's output (checked against the deployment's output contract)."""
    body = {"action": "correct", "output": _json_value(output), "reason": reason}
    _decide(_Api(url, key, config), item_id, body)


@app.command()
def reject(
    item_id: str,
    reason: str = ReasonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The model's output is wrong and there is no correction to give."""
    _decide(_Api(url, key, config), item_id, {"action": "reject", "reason": reason})


@app.command()
def escalate(
    item_id: str,
    reason: str = ReasonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Hand the item to the second tier."""
    _decide(_Api(url, key, config), item_id, {"action": "escalate", "reason": reason})


@app.command()
def override(
    request_id: str,
    output: str = typer.Option(
        ..., "--output", "-o", help="the right output: a label, a value or a text (JSON for more)"
    ),
    reason: str = ReasonOption,
    index: int = typer.Option(0, min=0, help="which prediction of a batch"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Operators: correct any past prediction by its request id."""
    body = {"index": index, "output": _json_value(output), "reason": reason}
    done = (
        _Api(url, key, config)
        .call("POST", f"/v1/admin/predictions/{request_id}/override", json=body)
        .json()
    )
    console.print(f"{request_id}[{index}]: {done['status']} ({done['id']})")


@app.command()
def export(
    format: str = typer.Option("jsonl", "--format", "-f", help="jsonl | parquet"),
    out: Path = typer.Option(..., "--out", help="file to write"),
    deployment: str | None = typer.Option(None),
    since: datetime | None = typer.Option(None, help="decided at or after (ISO 8601, UTC)"),
    until: datetime | None = typer.Option(None, help="decided before (ISO 8601, UTC)"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Decided items as training data: input, model output and confidence, final output,
    reviewer, reason, timestamps and model version."""
    if format not in ("jsonl", "parquet"):
        err_console.print(f"[red]error:[/red] --format is jsonl or parquet, not {format!r}")
        raise typer.Exit(2)
    params: dict[str, Any] = {"format": format}
    for name, value in (("deployment", deployment), ("since", since), ("until", until)):
        if value is not None:
            params[name] = value.isoformat() if isinstance(value, datetime) else value
    data = _Api(url, key, config).call("GET", "/v1/review/export", params=params).content
    out.write_bytes(data)
    rows = data.count(b"\n") if format == "jsonl" else None
    console.print(f"wrote {out} ({len(data)} bytes{f', {rows} rows' if rows is not None else ''})")
