"""Evaluation fixtures: a registry and the evaluation service on each database backend,
loading fake python models through the server's own loader."""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest

from bastion.backends.resources import Resources
from bastion.evaluation import EvaluationService
from bastion.registry import ArtifactStore, Registry
from bastion.routing.loaded import load_version
from bastion.settings.evaluation import EvaluationSettings
from bastion.store import Database

MODELS = "tests.evaluation.models"


def jsonl(*rows: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def rows(spec: list[tuple[str, str, str | None]], **extra: Any) -> bytes:
    """``(model says, expected, lang slice)`` rows as JSONL."""
    out = []
    for said, expected, lang in spec:
        row: dict[str, Any] = {"input": {"say": said, **extra}, "expected": expected}
        if lang:
            row["slices"] = {"lang": lang}
        out.append(row)
    return jsonl(*out)


async def add_model(registry: Registry, name: str, *entry_points: str) -> None:
    for fn in entry_points:
        await registry.register(
            name, flavor="python", artifact=None, params={"entry_point": f"{MODELS}:{fn}"}
        )


def make_service(
    database: Database, registry: Registry, artifacts: ArtifactStore, **settings: Any
) -> EvaluationService:
    return EvaluationService(
        EvaluationSettings(**settings),
        database,
        registry,
        artifacts,
        functools.partial(load_version, registry, Resources()),
    )


@pytest.fixture
def evaluation(
    database: Database, registry: Registry, artifacts: ArtifactStore
) -> EvaluationService:
    return make_service(database, registry, artifacts, batch_size=2)
