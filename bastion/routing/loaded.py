"""A model version loaded into this process: its backend, its contract, its registry record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import structlog

from bastion.backends import create_backend
from bastion.backends.base import Backend, ModelSpec, Prediction, SharedResources
from bastion.backends.columns import ClassifierColumns, MatrixBackend
from bastion.batching import MicroBatcher
from bastion.contracts import Contract
from bastion.core.columns import FeatureRows
from bastion.errors import InvalidRequest, ModelOutputInvalid
from bastion.pipeline.call import Call, Result
from bastion.settings import BatchingSettings, DeploymentSettings

if TYPE_CHECKING:
    from bastion.registry import ModelVersion, Registry

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedVersion:
    """A Target for in-process models: contract check, then the backend on the batch."""

    model: str
    version: int
    flavor: str
    backend: Backend
    contract: Contract
    record: ModelVersion

    @property
    def signature(self) -> dict[str, Any]:
        return dict(self.record.signature or {})

    def check_inputs(self, inputs: list[Any], *, batched: bool) -> None:
        self.contract.check_inputs(inputs, batched=batched)

    async def run(self, call: Call) -> Result:
        if call.stream:
            raise InvalidRequest(f"model '{self.model}' does not stream; drop 'stream'")
        inputs = call.inputs
        if isinstance(inputs, FeatureRows) and isinstance(self.backend, MatrixBackend):
            answers = await self.backend.infer_matrix(inputs)  # the columnar path
        else:
            answers = await self.backend.infer(inputs)
        if len(answers) != len(inputs):
            raise ModelOutputInvalid(
                f"model {self.model} v{self.version} returned {len(answers)} outputs "
                f"for {len(inputs)} inputs"
            )
        if isinstance(answers, ClassifierColumns):  # columns declare no cost of their own
            self.contract.check_outputs(answers)
        else:
            declared = sum(p.cost for p in answers)
            if declared:  # the model's own declared cost; else the price table's (admit stage)
                call.cost_usd = declared
            self.contract.check_outputs([p.output for p in answers])
        # a columnar answer stays a Sequence[Prediction] that builds its items on demand
        predictions = answers if isinstance(answers, list) else cast("list[Prediction]", answers)
        return Result(call.deployment, self.model, self.version, predictions)


_BATCHING_FLAVORS = frozenset({"embedding", "text-classifier"})


def _batched(backend: Backend, flavor: str, overrides: DeploymentSettings | None) -> Backend:
    cfg = overrides.batching if overrides else BatchingSettings()
    enabled = cfg.enabled if cfg.enabled is not None else flavor in _BATCHING_FLAVORS
    if not enabled:
        return backend
    return MicroBatcher(backend, max_batch=cfg.max_batch_size, max_wait_s=cfg.max_wait_ms / 1000)


def _backend(
    spec: ModelSpec, resources: SharedResources, overrides: DeploymentSettings | None
) -> Backend:
    """In this process, or as a Ray Serve deployment (``runtime: ray-serve``)."""
    if overrides is not None and overrides.runtime == "ray-serve":
        from bastion.backends.ray_serve import RayServeBackend

        create_backend(spec, resources)  # an unknown flavor fails here, before any deploy
        return RayServeBackend(spec, overrides.ray_serve)
    return create_backend(spec, resources)


async def load_version(
    registry: Registry,
    resources: SharedResources,
    model: str,
    version: int,
    overrides: DeploymentSettings | None = None,
) -> LoadedVersion:
    """Fetch, hash-check and load one version; raises ArtifactIntegrityError if tampered."""
    record = await registry.get_version(model, version)
    path = await registry.artifact_path(record)
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
    backend = _batched(_backend(spec, resources, overrides), record.flavor, overrides)
    await backend.load()
    log.info("model_version_loaded", model=model, version=version, flavor=record.flavor)
    return LoadedVersion(model, version, record.flavor, backend, contract, record)
