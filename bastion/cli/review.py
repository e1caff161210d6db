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

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import ConfigOption, console, dump, err_console, table

app = typer.Typer(
    rich_markup_mode=None,
    help="Human review: list, claim, approve, correct, reject, escalate, export.",
    no_args_is_help=True,
)

ReasonOption = typer.Option(..., "--reason", "-r", help="why (recorded with the decision)")


def _client(url: str | None, key: str | None, config: Path | None) -> AdminClient:
    return AdminClient.resolve(url, key, config)


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
    items = _client(url, key, config).get("/v1/review/items", **params)["data"]
    if as_json:
        dump(items)
        return
    shown = table("deployment", "v", "triggers", "prio", "tier", "conf", "status", "claimed")
    shown.add_column("id", no_wrap=True, min_width=28)
    for i in items:
        conf = "" if i["confidence"] is None else f"{i['confidence']:.2f}"
        shown.add_row(
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
    console.print(shown)


@app.command()
def show(
    item_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """One item: input, model output, confidence, and its history."""
    dump(_client(url, key, config).get(f"/v1/review/items/{item_id}"))


@app.command()
def claim(
    item_id: str | None = typer.Argument(None, help="default: the most urgent free item"),
    deployment: str | None = typer.Option(None, help="claim the next item of this deployment"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Lease an item so that nobody else decides it meanwhile."""
    api = _client(url, key, config)
    if item_id:
        dump(api.post(f"/v1/review/items/{item_id}/claim"))
    else:
        body = {"deployment": deployment} if deployment else {}
        dump(api.post("/v1/review/claim", body))


@app.command()
def release(
    item_id: str,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Give a claimed item back to the queue."""
    _client(url, key, config).post(f"/v1/review/items/{item_id}/release")
    console.print(f"released {item_id}")


def _decide(api: AdminClient, item_id: str, body: dict[str, Any]) -> None:
    done = api.post(f"/v1/review/items/{item_id}/decide", body)
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
    _decide(_client(url, key, config), item_id, {"action": "approve", "reason": reason})


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
    _decide(_client(url, key, config), item_id, body)


@app.command()
def reject(
    item_id: str,
    reason: str = ReasonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """The model's output is wrong and there is no correction to give."""
    _decide(_client(url, key, config), item_id, {"action": "reject", "reason": reason})


@app.command()
def escalate(
    item_id: str,
    reason: str = ReasonOption,
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Hand the item to the second tier."""
    _decide(_client(url, key, config), item_id, {"action": "escalate", "reason": reason})


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
    done = _client(url, key, config).post(f"/v1/admin/predictions/{request_id}/override", body)
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
    counts = {"bytes": 0, "rows": 0}
    with out.open("wb") as fh:

        def write(chunk: bytes) -> None:
            counts["bytes"] += len(chunk)
            counts["rows"] += chunk.count(b"\n")
            fh.write(chunk)

        _client(url, key, config).download("/v1/review/export", write, **params)
    rows = f", {counts['rows']} rows" if format == "jsonl" else ""
    console.print(f"wrote {out} ({counts['bytes']} bytes{rows})")
