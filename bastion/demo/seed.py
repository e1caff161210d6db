"""Register and promote the bundled demo models into an empty registry."""

from __future__ import annotations

import asyncio

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
