"""`bastion models …`: register, list, show, alias, promote, rollback, history, verify, approve.

Promote and alias pass the promotion gates (evaluation.gates); rollback is never gated.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bastion.backends.factories import check_flavor
from bastion.cli.audit import audit_admin
from bastion.cli.common import (
    ConfigOption,
    console,
    dump,
    err_console,
    opened,
    parse_pairs,
    run,
    settings_from,
)

app = typer.Typer(
    help="The model registry: versions, aliases, promotion and rollback.", no_args_is_help=True
)

_FLAVOR_BY_SUFFIX = {
    ".onnx": "onnx",
    ".skops": "sklearn",
    ".joblib": "sklearn",
    ".pkl": "sklearn",
    ".pickle": "sklearn",
    ".py": "python",
}


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
    created_by: str = typer.Option("cli", help="recorded as the creator"),
    config: Path | None = ConfigOption,
) -> None:
    """Register a new version of NAME from a file or a Python entry point."""
    settings = settings_from(config)
    params: dict[str, Any] = parse_pairs(param, "--param")
    if entry_point:
        params["entry_point"] = entry_point
    if trust_pickle:
        params["trust_pickle"] = True
    sig = json.loads(signature.read_text()) if signature else None
    profiled = None  # the training inputs, read (and checked) before anything is registered
    if training_data is not None and training_data.suffix.lower() in (".csv", ".parquet", ".jsonl"):
        from bastion.cli.drift import training_items

        profiled = training_items(training_data, label_column)

    chosen = _flavor(artifact, flavor, entry_point)

    async def go() -> Any:
        async with opened(settings) as (registry, _):
            return await registry.register(
                name,
                flavor=check_flavor(chosen),
                artifact=artifact,
                artifact_name=artifact.name if artifact else None,
                signature=sig,
                metrics={k: float(v) for k, v in parse_pairs(metric, "--metric").items()},
                params=params,
                training_data_hash=_sha256_file(training_data) if training_data else None,
                description=description,
                created_by=created_by,
            )

    mv = run(go())
    details = {"flavor": mv.flavor, "sha256": mv.artifact_sha256}
    run(audit_admin(settings, created_by, "model.registered", f"{mv.name}@{mv.version}", details))
    console.print(
        f"registered [bold]{mv.name}[/bold] version {mv.version} ({mv.flavor})"
        + (f", sha256 {mv.artifact_sha256[:12]}…" if mv.artifact_sha256 else "")
    )
    if profiled is not None:
        from bastion.cli.drift import store_training_profile

        run(store_training_profile(settings, mv.name, mv.version, profiled))
        console.print(f"stored its drift profile ({len(profiled)} training rows)")


@app.command("list")
def list_models(config: Path | None = ConfigOption) -> None:
    """Every model with its latest version and aliases."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (registry, _):
            return await registry.list_models()

    table = Table("model", "latest", "aliases", "description")
    for m in run(go()):
        aliases = ", ".join(f"{a}→v{v}" for a, v in sorted(m.aliases.items()))
        table.add_row(m.name, str(m.latest_version), aliases, m.description)
    console.print(table)


@app.command()
def show(
    name: str, version: int | None = typer.Argument(None), config: Path | None = ConfigOption
) -> None:
    """One model's versions (or one version's full record) as JSON."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (registry, _):
            if version is not None:
                return await registry.get_version(name, version)
            return {
                "name": name,
                "aliases": await registry.aliases(name),
                "versions": await registry.list_versions(name),
            }

    dump(run(go()))


def _alias_change(
    action: str,
    name: str,
    alias: str,
    version: int | None,
    actor: str,
    reason: str,
    config: Path | None,
    override: bool = False,
) -> None:
    from bastion.cli.evaluation import opened_evaluation

    settings = settings_from(config)

    async def go() -> Any:
        async with opened_evaluation(settings) as (registry, evaluation, _):
            if action == "rollback":
                return await registry.rollback(name, alias=alias, actor=actor, reason=reason), []
            assert version is not None
            # The command line reaches the database directly, so it acts as an admin: it may
            # override, with a reason, and the override is audited like the API's.
            failed = await evaluation.guard.authorize(
                name, version, alias, admin=True, override=override, reason=reason
            )
            if action == "promote":
                event = await registry.promote(
                    name, version, alias=alias, actor=actor, reason=reason
                )
            else:
                event = await registry.set_alias(name, alias, version, actor=actor, reason=reason)
            return event, failed

    event, failed = run(go())
    verb = {"promote": "promoted", "set": "alias_set"}.get(action, "rolled_back")
    details = {"alias": alias, "version": event.version, "previous_version": event.previous_version}
    if failed:
        gates = {**details, "reason": reason, "failed_gates": [f.to_dict() for f in failed]}
        run(audit_admin(settings, actor, "model.promotion_overridden", name, gates))
        err_console.print(
            "[yellow]gates overridden:[/yellow] " + "; ".join(f.describe() for f in failed)
        )
    run(audit_admin(settings, actor, f"model.{verb}", name, {**details, "reason": reason}))
    console.print(
        f"{name}: '{alias}' now → v{event.version} (was v{event.previous_version}); "
        "running servers switch within a second"
    )


@app.command()
def promote(
    name: str,
    version: int,
    alias: str = typer.Option("production"),
    actor: str = typer.Option("cli"),
    reason: str = typer.Option("", help="why (required with --override)"),
    override: bool = typer.Option(False, help="pass failed promotion gates (audited)"),
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS (default production) at VERSION, if its promotion gates pass."""
    _alias_change("promote", name, alias, version, actor, reason, config, override)


@app.command()
def rollback(
    name: str,
    alias: str = typer.Option("production"),
    actor: str = typer.Option("cli"),
    reason: str = typer.Option(""),
    config: Path | None = ConfigOption,
) -> None:
    """Point ALIAS back at the version that held it before."""
    _alias_change("rollback", name, alias, None, actor, reason, config)


@app.command()
def alias(
    name: str,
    alias: str,
    version: int,
    actor: str = typer.Option("cli"),
    reason: str = typer.Option("", help="why (required with --override)"),
    override: bool = typer.Option(False, help="pass failed promotion gates (audited)"),
    config: Path | None = ConfigOption,
) -> None:
    """Set any alias (staging, canary, …) to VERSION, if its promotion gates pass."""
    _alias_change("set", name, alias, version, actor, reason, config, override)


@app.command()
def approve(
    name: str,
    version: int,
    key: str = typer.Option(
        ..., envvar="BASTION_KEY", help="an API key holding the approver role ($BASTION_KEY)"
    ),
    comment: str = typer.Option("", help="why it may ship"),
    config: Path | None = ConfigOption,
) -> None:
    """Approve VERSION of NAME with an approver key (approval gates count distinct keys)."""
    from bastion.cli.evaluation import opened_evaluation
    from bastion.security import Authenticator, require_own_role

    settings = settings_from(config)

    async def go() -> Any:
        async with opened_evaluation(settings) as (registry, evaluation, keys):
            principal = await Authenticator(keys).authenticate(f"Bearer {key}")
            require_own_role(principal, "approver")
            await registry.get_version(name, version)
            approval = await evaluation.approvals.approve(
                name,
                version,
                key_id=principal.key_id,
                approver=principal.name,
                comment=comment,
                tenant=principal.tenant,  # approvals count for the owner's tenant (issue 24)
            )
            return principal, approval

    principal, approval = run(go())
    details = {"comment": comment, "key_id": principal.key_id}
    run(audit_admin(settings, principal.name, "model.approved", f"{name}@{version}", details))
    console.print(f"{principal.name} approved {name} v{version} at {approval.created_at:%H:%M:%S}")


@app.command()
def history(
    name: str, alias: str | None = typer.Option(None), config: Path | None = ConfigOption
) -> None:
    """Which version held each alias, when, and who moved it."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (registry, _):
            return await registry.alias_history(name, alias)

    table = Table("at", "alias", "action", "version", "previous", "actor", "reason")
    for e in run(go()):
        table.add_row(
            str(e.at), e.alias, e.action, str(e.version), str(e.previous_version), e.actor, e.reason
        )
    console.print(table)


@app.command()
def verify(name: str | None = typer.Argument(None), config: Path | None = ConfigOption) -> None:
    """Re-hash stored artifacts; exit 1 if any differs from its registered sha256."""
    settings = settings_from(config)

    async def go() -> Any:
        async with opened(settings) as (registry, _):
            return await registry.verify(name)

    results = run(go())
    for r in results:
        mark = "[green]ok[/green]" if r.ok else "[red]TAMPERED[/red]"
        console.print(f"{mark} {r.name} v{r.version} {r.message}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)
