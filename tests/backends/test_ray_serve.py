"""``runtime: ray-serve``: a model version loaded by the gateway's own loader runs as a Ray
Serve deployment and answers exactly what the same version answers in-process. One local
Ray for the module (2 CPUs, no dashboard, RAY_AUTH_MODE=disabled)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bastion.backends.resources import Resources
from bastion.demo.tabular import sample_inputs, train_breast_cancer
from bastion.registry import ArtifactStore, Registry
from bastion.routing.loaded import LoadedVersion, load_version
from bastion.settings import DeploymentSettings
from bastion.store import Database, migrate

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    pytest.importorskip("ray.serve", reason="the ray extra (ray[serve]) is not installed")
    import ray
    from ray import serve

    os.environ["RAY_AUTH_MODE"] = "disabled"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        serve.shutdown()
        ray.shutdown()


@pytest.fixture
async def registry(tmp_path: Path) -> AsyncIterator[Registry]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bastion.db'}"
    await migrate.upgrade(url)
    db = Database(url)
    yield Registry(db, ArtifactStore(tmp_path / "artifacts"))
    await db.aclose()


def _deployment(runtime: str) -> DeploymentSettings:
    return DeploymentSettings.model_validate(
        {
            "name": "bc",
            "runtime": runtime,
            "ray_serve": {"min_replicas": 1, "max_replicas": 2, "num_cpus": 0.5},
        }
    )


async def _load(registry: Registry, runtime: str) -> LoadedVersion:
    return await load_version(registry, Resources(), "bc", 1, _deployment(runtime))


async def test_a_ray_serve_deployment_answers_as_in_process(
    ray_cluster: None, registry: Registry
) -> None:
    from ray import serve

    trained = train_breast_cancer(c=1.0)
    await registry.register(
        "bc", flavor="onnx", artifact=trained.artifact, signature=trained.signature
    )
    rows = sample_inputs(16)
    local = await _load(registry, "in-process")
    remote = await _load(registry, "ray-serve")
    try:
        status = serve.status().applications["bastion-bc-v1"]
        assert status.status == "RUNNING"
        (deployment,) = status.deployments.values()
        assert sum(deployment.replica_states.values()) >= 1
        expected = await local.backend.infer(rows)
        assert await remote.backend.infer(rows) == expected
        together = await asyncio.gather(*(remote.backend.infer([row]) for row in rows))
        assert [p for batch in together for p in batch] == expected  # concurrent, in order
    finally:
        await remote.backend.aclose()
        await local.backend.aclose()
    assert "bastion-bc-v1" not in serve.status().applications  # closing deletes it


def test_runtime_defaults_to_in_process() -> None:
    assert DeploymentSettings(name="x").runtime == "in-process"
