"""The model registry: versioned models, aliases with rollback, integrity-checked artifacts."""

from bastion.registry.artifacts import ArtifactStore
from bastion.registry.entities import AliasEvent, ModelSummary, ModelVersion, VerifyResult
from bastion.registry.service import Registry
from bastion.registry.tiered import Artifacts, StoreCheck

__all__ = [
    "AliasEvent",
    "ArtifactStore",
    "Artifacts",
    "ModelSummary",
    "ModelVersion",
    "Registry",
    "StoreCheck",
    "VerifyResult",
]
