"""Registry: register, show and list versions; safe version numbers; input rules."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from bastion.errors import InvalidRequest, NotFound
from bastion.registry import ArtifactStore, ModelVersion, Registry
from bastion.store import Database


async def test_register_show_and_list(registry: Registry, tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(b"onnx-bytes")
    v1 = await registry.register(
        "fraud",
        flavor="onnx",
        artifact=model,
        signature={"input_schema": {"type": "array"}},
        metrics={"auc": 0.91, "n": 10},
        params={"threshold": 0.5},
        training_data_hash="sha256:abc",
        description="first cut",
        created_by="alice",
    )
    assert isinstance(v1, ModelVersion)
    assert (v1.name, v1.version, v1.flavor) == ("fraud", 1, "onnx")
    assert v1.artifact_sha256 == hashlib.sha256(b"onnx-bytes").hexdigest()
    assert (v1.artifact_name, v1.artifact_size) == ("model.onnx", 10)
    assert v1.metrics == {"auc": 0.91, "n": 10}
    assert v1.created_at.tzinfo is not None
    assert v1.aliases == ()
    v2 = await registry.register("fraud", flavor="onnx", artifact=b"other", artifact_name="m2.onnx")
    assert v2.version == 2

    assert await registry.get_version("fraud", 1) == v1
    assert (await registry.latest_version("fraud")).version == 2
    assert [v.version for v in await registry.list_versions("fraud")] == [1, 2]
    await registry.promote("fraud", 1, actor="alice")
    assert (await registry.get_version("fraud", 1)).aliases == ("production",)

    await registry.register("chat", flavor="openai", artifact=None)
    summaries = await registry.list_models()
    assert [(s.name, s.latest_version, s.aliases) for s in summaries] == [
        ("chat", 1, {}),
        ("fraud", 2, {"production": 1}),
    ]
    assert summaries[1].description == "first cut"


async def test_artifactless_versions_have_no_path(registry: Registry) -> None:
    mv = await registry.register("chat", flavor="openai", artifact=None, params={"model": "x"})
    assert (mv.artifact_sha256, mv.artifact_name, mv.artifact_size) == (None, None, 0)
    assert await registry.artifact_path(mv) is None


async def test_artifact_path_is_verified(registry: Registry) -> None:
    mv = await registry.register("m", flavor="onnx", artifact=b"abc", artifact_name="m.onnx")
    path = await registry.artifact_path(mv)
    assert path is not None and path.read_bytes() == b"abc"


async def test_missing_versions_and_models_say_what_exists(registry: Registry) -> None:
    await registry.register("fraud", flavor="onnx", artifact=b"1", artifact_name="a.onnx")
    await registry.register("fraud", flavor="onnx", artifact=b"2", artifact_name="a.onnx")
    with pytest.raises(NotFound, match=r"no version 7; its versions: 1, 2"):
        await registry.get_version("fraud", 7)
    with pytest.raises(NotFound, match=r"no model named 'fruad'; registered models: fraud"):
        await registry.get_version("fruad", 1)
    with pytest.raises(NotFound, match="no model named"):
        await registry.latest_version("nope")
    with pytest.raises(NotFound, match="no model named"):
        await registry.list_versions("nope")
    with pytest.raises(NotFound, match="no model named"):
        await registry.aliases("nope")


async def test_concurrent_registers_get_distinct_versions(registry: Registry) -> None:
    results = await asyncio.gather(
        *(
            registry.register("m", flavor="onnx", artifact=f"v{i}".encode(), artifact_name="m.onnx")
            for i in range(5)
        )
    )
    assert sorted(mv.version for mv in results) == [1, 2, 3, 4, 5]
    assert [mv.version for mv in await registry.list_versions("m")] == [1, 2, 3, 4, 5]


async def test_concurrent_registers_from_two_processes_worth_of_pools(
    database_url: str, artifacts: ArtifactStore
) -> None:
    dbs = [Database(database_url), Database(database_url)]
    try:
        registries = [Registry(db, artifacts) for db in dbs]
        results = await asyncio.gather(
            *(registries[i % 2].register("m", flavor="python", artifact=None) for i in range(6))
        )
    finally:
        for db in dbs:
            await db.aclose()
    assert sorted(mv.version for mv in results) == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    "name", ["", "Fraud", "-fraud", "fraud model", "a" * 64, "fraud/../x", "ünicode"]
)
async def test_bad_model_names_are_refused(registry: Registry, name: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid model name"):
        await registry.register(name, flavor="onnx", artifact=None)


@pytest.mark.parametrize("name", ["a", "fraud-v2", "0day", "my.model_x", "a" * 63])
async def test_good_model_names_are_accepted(registry: Registry, name: str) -> None:
    assert (await registry.register(name, flavor="onnx", artifact=None)).name == name


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"flavor": " "}, "flavor must not be empty"),
        ({"metrics": {"auc": "high"}}, "metric 'auc' must be a number"),
        ({"metrics": {"auc": True}}, "metric 'auc' must be a number"),
        ({"metrics": {"auc": float("nan")}}, "must be finite"),
        ({"params": {"bad": float("inf")}}, "params must be a JSON object"),
        ({"signature": {"x": object()}}, "signature must be a JSON object"),
    ],
)
async def test_bad_fields_are_refused(registry: Registry, kwargs: dict, match: str) -> None:
    args: dict = {"flavor": "onnx", "artifact": None, **kwargs}
    with pytest.raises(InvalidRequest, match=match):
        await registry.register("m", **args)


@pytest.mark.parametrize("filename", ["model.pkl", "model.PICKLE", "model.joblib"])
async def test_pickles_need_explicit_trust(
    registry: Registry, tmp_path: Path, filename: str
) -> None:
    artifact = tmp_path / filename
    artifact.write_bytes(b"\x80\x04pickle")
    with pytest.raises(InvalidRequest, match="--trust-pickle") as caught:
        await registry.register("m", flavor="sklearn", artifact=artifact)
    assert "arbitrary code" in caught.value.message
    with pytest.raises(InvalidRequest, match="--trust-pickle"):
        await registry.register(
            "m", flavor="sklearn", artifact=artifact, params={"trust_pickle": "yes"}
        )
    with pytest.raises(NotFound):
        await registry.list_versions("m")
    mv = await registry.register(
        "m", flavor="sklearn", artifact=artifact, params={"trust_pickle": True}
    )
    assert mv.version == 1 and mv.params == {"trust_pickle": True}


async def test_pickle_sent_as_bytes_is_judged_by_its_name(registry: Registry) -> None:
    with pytest.raises(InvalidRequest, match="--trust-pickle"):
        await registry.register("m", flavor="sklearn", artifact=b"x", artifact_name="m.pkl")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("flavor", "f" * 65),
        ("artifact_name", "n" * 256),
        ("training_data_hash", "h" * 129),
        ("created_by", "c" * 101),
    ],
)
async def test_overlong_fields_are_refused_not_truncated(
    registry: Registry, field: str, value: str
) -> None:
    args: dict = {"flavor": "onnx", "artifact": None, field: value}
    with pytest.raises(InvalidRequest, match=f"{field} is {len(value)} characters long"):
        await registry.register("m", **args)


@pytest.mark.parametrize("version", [0, -1, 2**31, 10**15])
async def test_out_of_range_versions_are_not_found(registry: Registry, version: int) -> None:
    await registry.register("m", flavor="onnx", artifact=None)
    with pytest.raises(NotFound, match=f"no version {version}; its versions: 1"):
        await registry.get_version("m", version)
    with pytest.raises(NotFound, match=f"no version {version}"):
        await registry.promote("m", version, actor="a")
