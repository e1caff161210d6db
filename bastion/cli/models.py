"""`bastion models …`: register, list, show, alias, promote, rollback, history, verify, approve.

Every command goes through the running server's admin API (``--url`` / ``$BASTION_URL``,
``--key`` / ``$BASTION_KEY``, or the profile): artifacts upload as a stream, promote and alias
pass the promotion gates there (rollback never does), and the server audits each change
under the key's name. Only ``verify --offline`` reads the database and files itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import typer

from bastion.cli.client import AdminClient, KeyOption, UrlOption
from bastion.cli.common import (
    OFFLINE_NOTE,
    ConfigOption,
    console,
    dump,
    err_console,
    parse_pairs,
    run,
    settings_from,
    table,
)

app = typer.Typer(
    rich_markup_mode=None,
    help="The model registry: versions, aliases, promotion and rollback (through the server).",
    no_args_is_help=True,
)

_FLAVOR_BY_SUFFIX = {
    ".onnx": "onnx",
    ".skops": "sklearn",
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".py": "python",
}
_PROFILED = (".csv", ".parquet", ".jsonl")


def _flavor(artifact: Path | None, flavor: str | None, entry_point: str | None) -> str:
    if flavor:
        return flavor
    if artifact is not None and artifact.suffix in _FLAVOR_BY_SUFFIX:
        return _FLAVOR_BY_SUFFIX[artifact.suffix]
    if artifact is None and entry_point:
        return "python"
    err_console.print(
        "[red]error:[/red] cannot tell the flavor from the file; pass --flavor "
        "(onnx, sklearn, python, embedding, text-classifier)"
    )
    raise typer.Exit(2)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _client(url: str | None, key: str | None, config: Path | None) -> AdminClient:
    return AdminClient.resolve(url, key, config)


@app.command()
def register(
    name: str = typer.Argument(..., help="model name, e.g. fraud-scorer"),
    artifact: Path | None = typer.Argument(None, exists=True, dir_okay=False, help="model file"),
    flavor: str | None = typer.Option(
        None, help="onnx | sklearn | python | embedding | text-classifier"
    ),
    entry_point: str | None = typer.Option(
        None, help="python flavor: 'pkg.module:fn' or, with a .py file, 'fn'"
    ),
    signature: Path | None = typer.Option(
        None, exists=True, help="JSON file: input_schema, output_schema, …"
    ),
    metric: list[str] = typer.Option([], "--metric", help="key=value, repeatable"),
    param: list[str] = typer.Option([], "--param", help="key=value, repeatable"),
    training_data: Path | None = typer.Option(
        None, exists=True, help="hashed and recorded; a .csv/.parquet/.jsonl is drift-profiled"
    ),
    label_column: str | None = typer.Option(
        None, help="with --training-data: the target column, left out of the drift profile"
    ),
    description: str = typer.Option("", help="free text"),
    trust_pickle: bool = typer.Option(
        False, help="allow joblib/pickle files: unpickling runs code"
    ),
    tenant: str | None = typer.Option(
        None, help="a new model's owning tenant (default: the key's own)"
    ),
    shared: bool = typer.Option(False, help="a new model every tenant may use (admins manage it)"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Register a new version of NAME from a file (uploaded as a stream) or a Python entry
    point; needs an admin key."""
    params: dict[str, Any] = parse_pairs(param, "--param")
    if entry_point:
        params["entry_point"] = entry_point
    if trust_pickle:
        params["trust_pickle"] = True
    sig = json.loads(signature.read_text()) if signature else None
    metrics = {k: float(v) for k, v in parse_pairs(metric, "--metric").items()}
    profiled = training_data is not None and training_data.suffix.lower() in _PROFILED
    if profiled and training_data is not None:  # checked before anything is registered
        from bastion.cli.drift import training_items

        training_items(training_data, label_column)
    chosen = _flavor(artifact, flavor, entry_point)
    client = _client(url, key, config)
    fields = {
        "signature": sig,
        "metrics": metrics,
        "params": params,
        "training_data_hash": _sha256_file(training_data) if training_data else None,
        "description": description,
    }
    owner: dict[str, Any] = {"tenant": tenant, "shared": shared}
    if artifact is None:
        body = {"flavor": chosen, **fields, **owner}
        mv = client.post(f"/v1/admin/models/{name}/versions", body)
    else:
        as_query = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in fields.items()}
        as_query.update(tenant=tenant, shared="true" if shared else None)
        mv = client.upload(
            f"/v1/admin/models/{name}/versions/upload", artifact, flavor=chosen, **as_query
        )
    sha = mv.get("artifact_sha256")
    console.print(
        f"registered [bold]{mv['name']}[/bold] version {mv['version']} ({mv['flavor']})"
        + (f", sha256 {sha[:12]}…" if sha else "")
    )
    if profiled and training_data is not None:
        path = f"/v1/admin/models/{name}/versions/{mv['version']}/drift-profile"
        done = client.upload(path, training_data, label_column=label_column)
        console.print(f"stored its drift profile ({done['rows']} training rows)")


@app.command("list")
def list_models(
    url: str | None = UrlOption, key: str | None = KeyOption, config: Path | None = ConfigOption
) -> None:
    """Every model with its latest version and aliases."""
    found = _client(url, key, config).get("/v1/admin/models")["data"]
    shown = table("model", "latest", "aliases", "description")
    for m in found:
        aliases = ", ".join(f"{a}→v{v}" for a, v in sorted(m["aliases"].items()))
        shown.add_row(m["name"], str(m["latest_version"]), aliases, m["description"])
    console.print(shown)


@app.command()
def show(
    name: str,
    version: int | None = typer.Argument(None),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """One model's versions (or one version's full record) as JSON."""
    client = _client(url, key, config)
    if version is not None:
        dump(client.get(f"/v1/admin/models/{name}/versions/{version}"))
    else:
        dump(client.get(f"/v1/admin/models/{name}"))


def _moved(name: str, alias: str, event: dict[str, Any]) -> None:
    overridden = event.get("overridden_gates") or []
    if overridden:
        described = "; ".join(f"gate '{g['gate']}' failed: {g['message']}" for g in overridden)
        err_console.print(f"[yellow]gates overridden:[/yellow] {described}", highlight=False)
    console.print(
        f"{name}: '{alias}' now → v{event['version']} (was v{event['previous_version']}); "
        "running servers switch within a second"
    )


@app.command()
def promote(
    name: str,
    version: int,
    alias: str = typer.Option("production"),
    reason: str = typer.Option("", help="why (required with --override)"),
    override: bool = typer.Option(False, help="admins: pass failed promotion gates (audited)"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS (default production) at VERSION, if its promotion gates pass."""
    body = {"version": version, "alias": alias, "reason": reason, "override": override}
    _moved(name, alias, _client(url, key, config).post(f"/v1/admin/models/{name}/promote", body))


@app.command()
def rollback(
    name: str,
    alias: str = typer.Option("production"),
    reason: str = typer.Option(""),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS back at the version that held it before."""
    body = {"alias": alias, "reason": reason}
    _moved(name, alias, _client(url, key, config).post(f"/v1/admin/models/{name}/rollback", body))


@app.command()
def alias(
    name: str,
    alias: str,
    version: int,
    reason: str = typer.Option("", help="why (required with --override)"),
    override: bool = typer.Option(False, help="admins: pass failed promotion gates (audited)"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Set any alias (staging, canary, …) to VERSION, if its promotion gates pass."""
    body = {"version": version, "reason": reason, "override": override}
    path = f"/v1/admin/models/{name}/aliases/{alias}"
    _moved(name, alias, _client(url, key, config).put(path, body))


@app.command()
def approve(
    name: str,
    version: int,
    comment: str = typer.Option("", help="why it may ship"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Approve VERSION of NAME with a key that holds the approver role itself (approval gates
    count distinct keys)."""
    path = f"/v1/admin/models/{name}/versions/{version}/approvals"
    approval = _client(url, key, config).post(path, {"comment": comment})["data"]
    at = str(approval.get("created_at", ""))[11:19]
    console.print(f"{approval['approver']} approved {name} v{version} at {at}")


@app.command()
def history(
    name: str,
    alias: str | None = typer.Option(None),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Which version held each alias, when, and who moved it."""
    events = _client(url, key, config).get(f"/v1/admin/models/{name}/history", alias=alias)
    shown = table("at", "alias", "action", "version", "previous", "actor", "reason")
    for e in events["data"]:
        shown.add_row(
            str(e["at"]),
            e["alias"],
            e["action"],
            str(e["version"]),
            str(e["previous_version"]),
            str(e["actor"]),
            e["reason"],
        )
    console.print(shown)


@app.command()
def verify(
    name: str | None = typer.Argument(None),
    offline: bool = typer.Option(False, help=f"no server: {OFFLINE_NOTE}"),
    url: str | None = UrlOption,
    key: str | None = KeyOption,
    config: Path | None = ConfigOption,
) -> None:
    """Re-hash stored artifacts; exit 1 if any differs from its registered sha256. The server
    checks its own store; --offline checks the configured data dir from this machine."""
    if offline:
        results = [_as_dict(r) for r in _verify_offline(name, config)]
    else:
        path = f"/v1/admin/models/{name}/verify" if name else "/v1/admin/models/verify"
        results = _client(url, key, config).post(path)["data"]
    for r in results:
        mark = "[green]ok[/green]" if r["ok"] else "[red]TAMPERED[/red]"
        console.print(f"{mark} {r['name']} v{r['version']} {r['message']}")
        for store, what in (r.get("stores") or {}).items():
            console.print(f"    {store}: {what}")
    if not all(r["ok"] for r in results):
        raise typer.Exit(1)


def _verify_offline(name: str | None, config: Path | None) -> list[Any]:
    from bastion.cli.common import opened

    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (registry, _):
            return await registry.verify(name)

    found: list[Any] = run(go())
    return found


def _as_dict(result: Any) -> dict[str, Any]:
    return {
        "name": result.name,
        "version": result.version,
        "ok": result.ok,
        "message": result.message,
        "stores": result.stores,
    }
