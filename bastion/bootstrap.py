"""First-start preparation: data dir, migrations, the demo models, the first admin key."""

from __future__ import annotations

from collections.abc import Callable

from bastion.registry import ArtifactStore, Registry
from bastion.security import KeyStore
from bastion.security.jwks import KeySet
from bastion.settings import Settings
from bastion.store import Database, migrate


async def prepare(settings: Settings, echo: Callable[[str], None]) -> None:
    """Idempotent; run once by ``bastion serve`` before any worker starts."""
    if settings.security.jwt is not None:  # an unreachable JWKS stops here, in one clear line
        await KeySet.load(settings.security.jwt)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        registry = Registry(db, ArtifactStore(settings.artifacts_dir))
        if settings.demo and not await registry.list_models():
            from bastion.demo.seed import seed_demo

            echo("First start: training and registering the demo models (a few seconds)…")
            from bastion.monitoring.references import ReferenceStore

            for line in await seed_demo(registry, profiles=ReferenceStore(db)):
                echo(f"  {line}")
        await _ensure_admin_key(KeyStore(db), settings, echo)
        # a key that cannot open what the database holds stops here, in one clear line
        from bastion.security.encryption import load_encryptor
        from bastion.security.key_check import check_keys

        await check_keys(db, load_encryptor(settings.encryption))
    finally:
        await db.aclose()


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
        "Lost it? `bastion keys create --name me --role admin` makes another (needs the data dir)."
    )
    echo("")
