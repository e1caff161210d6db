"""Verification: tampered and missing artifacts are caught on load and by ``verify``."""

from __future__ import annotations

import pytest

from bastion.errors import ArtifactIntegrityError, InvalidRequest, NotFound
from bastion.registry import ArtifactStore, Registry
from tests.registry.test_artifacts import tamper


async def test_tampered_artifact_is_refused_and_reported(
    registry: Registry, artifacts: ArtifactStore
) -> None:
    good = await registry.register("m", flavor="onnx", artifact=b"good", artifact_name="a.onnx")
    bad = await registry.register("m", flavor="onnx", artifact=b"soon bad", artifact_name="b.onnx")
    assert bad.artifact_sha256 is not None
    tamper(artifacts.location(bad.artifact_sha256))

    with pytest.raises(ArtifactIntegrityError, match="has been modified"):
        await registry.artifact_path(bad)
    assert await registry.artifact_path(good) is not None

    results = await registry.verify("m")
    assert [(r.version, r.ok) for r in results] == [(1, True), (2, False)]
    failed = results[1]
    assert failed.expected == bad.artifact_sha256
    assert failed.actual is not None and failed.actual != failed.expected
    assert "bastion models verify" in failed.message
    assert results[0].actual == results[0].expected == good.artifact_sha256

    assert [r.ok for r in await registry.verify("m", 2)] == [False]
    assert [r.ok for r in await registry.verify()] == [True, False]


async def test_missing_artifact_fails_verification(
    registry: Registry, artifacts: ArtifactStore
) -> None:
    mv = await registry.register("m", flavor="onnx", artifact=b"x", artifact_name="a.onnx")
    assert mv.artifact_sha256 is not None
    artifacts.location(mv.artifact_sha256).unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        await registry.artifact_path(mv)
    [result] = await registry.verify("m", 1)
    assert (result.ok, result.actual) == (False, None)
    assert "missing" in result.message


async def test_verify_covers_artifactless_versions_and_checks_arguments(
    registry: Registry,
) -> None:
    await registry.register("chat", flavor="openai", artifact=None)
    [result] = await registry.verify()
    assert result.ok and result.expected is None and result.message == "no artifact to check"
    with pytest.raises(InvalidRequest, match="needs the model name"):
        await registry.verify(version=1)
    with pytest.raises(NotFound):
        await registry.verify("nope")
    with pytest.raises(NotFound, match="no version 3"):
        await registry.verify("chat", 3)
