"""Register and promote the bundled demo models into an empty registry.

``bastion serve`` seeds in a child process (``python -m bastion.demo.seed``, settings from
the environment ``serve`` exported): training imports scikit-learn, SciPy and pandas
(~150 MiB that would otherwise stay in the serving process after its first start).
"""

from __future__ import annotations

import asyncio
import os
import sys

from bastion.backends.resources import Resources
from bastion.monitoring import ReferenceProfile
from bastion.monitoring.references import ReferenceStore
from bastion.registry import Registry


async def seed_demo(
    registry: Registry,
    resources: Resources | None = None,
    profiles: ReferenceStore | None = None,
) -> list[str]:
    """Train (seconds), register and promote each demo model to ``production``; with
    ``profiles``, store each model's training-data drift profile beside its version."""
    from bastion.demo import demo_models

    trained = await asyncio.to_thread(demo_models, resources or Resources())
    lines = []
    for model in trained:
        mv = await registry.register(
            model.name,
            flavor=model.flavor,
            artifact=model.artifact,
            artifact_name=model.artifact_name,
            signature=model.signature,
            metrics=model.metrics,
            params=model.params,
            training_data_hash=model.training_data_hash,
            description=model.description,
            created_by="demo",
        )
        if profiles is not None and model.profile is not None:
            profile = ReferenceProfile.from_json(model.profile)
            await profiles.put(
                model.name, mv.version, profile, source="training", created_by="demo"
            )
        await registry.promote(
            model.name, mv.version, alias="production", actor="demo", reason="bundled demo model"
        )
        shown = ", ".join(f"{k}={v:.3f}" for k, v in sorted(model.metrics.items()))
        lines.append(f"{model.name} v{mv.version} ({model.flavor}) {shown}".rstrip())
    return lines


async def seed_in_child() -> None:
    """Run ``main`` below in a child process; its lines go to this process's stdout."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bastion.demo.seed", env=dict(os.environ)
    )
    if await proc.wait() != 0:
        from bastion.errors import ConfigError

        raise ConfigError(
            f"seeding the demo models failed (exit status {proc.returncode}; its error is "
            "printed above); fix the cause, or set demo: false"
        )


async def _seed_configured() -> None:
    from bastion.registry.opening import open_artifacts
    from bastion.settings import load_settings
    from bastion.store import Database

    settings = load_settings()
    db = Database(settings.resolved_database_url)
    artifacts = open_artifacts(settings, db)
    try:
        registry = Registry(db, artifacts)
        if await registry.list_models():
            return
        for line in await seed_demo(registry, profiles=ReferenceStore(db)):
            print(f"  {line}", flush=True)
    finally:
        await artifacts.aclose()
        await db.aclose()


def main() -> None:
    asyncio.run(_seed_configured())


if __name__ == "__main__":
    main()
