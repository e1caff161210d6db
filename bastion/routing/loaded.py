"""A model version loaded into this process: its backend, its contract, its registry record."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from bastion.backends import create_backend
from bastion.backends.base import Backend, ModelSpec, SharedResources
from bastion.contracts import Contract
from bastion.settings import DeploymentSettings

if TYPE_CHECKING:
    from bastion.registry import ModelVersion, Registry

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedVersion:
    model: str
    version: int
    flavor: str
    backend: Backend
    contract: Contract
    record: ModelVersion

    @property
    def signature(self) -> dict[str, Any]:
        return dict(self.record.signature or {})


async def load_version(
    registry: Registry,
    resources: SharedResources,
    model: str,
    version: int,
    overrides: DeploymentSettings | None = None,
) -> LoadedVersion:
    """Fetch, hash-check and load one version; raises ArtifactIntegrityError if tampered."""
    record = await registry.get_version(model, version)
    path = await asyncio.to_thread(registry.artifact_path, record)
    spec = ModelSpec(
        name=model,
        version=version,
        flavor=record.flavor,
        artifact_path=path,
        signature=dict(record.signature or {}),
        params=dict(record.params or {}),
    )
    signature = spec.signature
    contract = Contract.from_schemas(
        (overrides.input_schema if overrides else None) or signature.get("input_schema"),
        (overrides.output_schema if overrides else None) or signature.get("output_schema"),
    )
    backend = create_backend(spec, resources)
    await backend.load()
    log.info("model_version_loaded", model=model, version=version, flavor=record.flavor)
    return LoadedVersion(model, version, record.flavor, backend, contract, record)
