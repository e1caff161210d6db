"""First-start preparation: data dir, migrations, the demo models, the first admin key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion.registry import Registry
from bastion.registry.opening import open_artifacts
from bastion.security import KeyStore
from bastion.security.files import private_data_dir, sqlite_path
from bastion.settings import Settings
from bastion.settings.references import registry_warnings
from bastion.store import Database
from bastion.store.schema import ensure_schema


async def prepare(settings: Settings, echo: Callable[[str], None]) -> None:
    """Idempotent; run once by ``bastion serve`` before any worker starts."""
    if settings.security.jwt is not None:  # an unreachable JWKS stops here, in one clear line
        # imported here: PyJWT and cryptography (~10 MiB) stay out of a server without JWTs
        from bastion.security.jwks import KeySet

        await KeySet.load(settings.security.jwt)
    url = settings.resolved_database_url
    private_data_dir(settings.data_dir)  # 0700, and files created 0600 (issue 24)
    # at head: one query; otherwise in a child process, so that Alembic (~12 MiB) never
    # enters this one, which becomes the server's worker
    await ensure_schema(url)
    private_data_dir(settings.data_dir, sqlite_path(url))
    db = Database(settings.resolved_database_url)
    artifacts = None
    try:
        artifacts = open_artifacts(settings, db)
        registry = Registry(db, artifacts)
        if settings.demo and not await registry.list_models():
            from bastion.demo.seed import seed_in_child

            echo("First start: training and registering the demo models (a few seconds)…")
            # in a child: training's scikit-learn and SciPy never enter the server's process
            await seed_in_child()
        await _ensure_admin_key(KeyStore(db), settings, echo)
        # a key that cannot open what the database holds stops here, in one clear line
        from bastion.security.encryption import load_encryptor
        from bastion.security.key_check import check_keys

        await check_keys(db, load_encryptor(settings.encryption))
        for warning in await _registry_warnings(registry, settings):
            echo(f"warning: {warning}")
    finally:
        if artifacts is not None:
            await artifacts.aclose()
        await db.aclose()


async def _registry_warnings(registry: Registry, settings: Settings) -> list[str]:
    """Config names of models and versions the registry does not hold (yet)."""
    models: dict[str, dict[str, Any]] = {}
    served = []
    for summary in await registry.list_models():
        versions = {v.version: v.flavor for v in await registry.list_versions(summary.name)}
        models[summary.name] = {"versions": versions}
        if "production" in summary.aliases:
            served.append(summary.name)
    return registry_warnings(settings, models, served)


async def _ensure_admin_key(
    keys: KeyStore, settings: Settings, echo: Callable[[str], None]
) -> None:
    given = settings.security.admin_key
    if given is not None:
        plaintext = given.get_secret_value()
        if await keys.find(plaintext) is None:
            await keys.create("admin (BASTION_ADMIN_KEY)", ["admin"], plaintext=plaintext)
            echo("Registered the admin key from BASTION_ADMIN_KEY.")
        return
    if await keys.any_admin():
        return
    secret, _ = await keys.create("admin (first start)", ["admin"])
    echo("")
    echo("Created the first admin API key. It is shown ONLY NOW; store it safely:")
    echo(f"  export BASTION_KEY={secret}")
    echo(
        "Lost it? `bastion keys create --offline --name me --role admin` makes another "
        "(on the data dir)."
    )
    echo("")
