"""Eval sets: versions per name, one version per content, hash checked on every load."""

from __future__ import annotations

import os

import pytest

from bastion.errors import ArtifactIntegrityError, InvalidRequest, NotFound
from bastion.evaluation import EvaluationService
from bastion.evaluation.sets import parse_ref
from bastion.registry import ArtifactStore
from tests.evaluation.conftest import rows


async def test_versions_dedupe_list_and_load(evaluation: EvaluationService) -> None:
    sets = evaluation.sets
    one = rows([("a", "a", "en"), ("b", "b", "fr")])
    first, created = await sets.register("golden", one, description="first", created_by="ann")
    assert created and first.ref == "golden@1" and first.rows == 2
    assert first.slices == ["lang"] and first.format == "jsonl" and first.created_by == "ann"
    again, created = await sets.register("golden", one)
    assert not created and again.version == 1  # the same content is the same version
    second, created = await sets.register("golden", rows([("a", "b", None)]))
    assert created and second.version == 2
    other, _ = await sets.register("other", b"input,expected\nx,y\n", filename="o.csv")
    assert other.version == 1 and other.format == "csv"
    assert [s.ref for s in await sets.list_sets()] == ["golden@1", "golden@2", "other@1"]
    assert [s.ref for s in await sets.list_sets("golden")] == ["golden@1", "golden@2"]
    assert (await sets.resolve("golden")).version == 2
    assert (await sets.resolve("golden@v1")).sha256 == first.sha256
    loaded = await sets.rows(await sets.resolve("golden@1"))
    assert [(r.input, r.expected, r.slices) for r in loaded][1] == (
        {"say": "b"},
        "b",
        {"lang": "fr"},
    )


async def test_bad_rows_store_nothing(evaluation: EvaluationService) -> None:
    with pytest.raises(InvalidRequest, match="line 2: 'expected' is missing"):
        await evaluation.sets.register("golden", b'{"input": 1, "expected": 1}\n{"input": 2}\n')
    assert await evaluation.sets.list_sets() == []
    with pytest.raises(InvalidRequest, match="invalid eval set name"):
        await evaluation.sets.register("Bad Name", rows([("a", "a", None)]))


async def test_unknown_sets_and_versions(evaluation: EvaluationService) -> None:
    with pytest.raises(NotFound, match="no eval set named 'nope'"):
        await evaluation.sets.resolve("nope")
    await evaluation.sets.register("golden", rows([("a", "a", None)]))
    with pytest.raises(NotFound, match="has no version 7; its versions: 1"):
        await evaluation.sets.resolve("golden@7")
    with pytest.raises(InvalidRequest, match="not an eval set reference"):
        parse_ref("golden@latest")


async def test_tampered_content_is_refused_on_load(
    evaluation: EvaluationService, artifacts: ArtifactStore
) -> None:
    found, _ = await evaluation.sets.register("golden", rows([("a", "a", None)]))
    path = artifacts.location(found.sha256)
    os.chmod(path, 0o644)
    path.write_bytes(rows([("a", "b", None)]))
    with pytest.raises(ArtifactIntegrityError, match="modified"):
        await evaluation.sets.rows(found)
