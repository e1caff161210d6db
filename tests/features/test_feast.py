"""Feast as the feature source (a real local repo: file offline store, SQLite online store):
the enrich stage fills an input from Feast's online store, which equals the training row
Feast's point-in-time join exports for the same entity and time; the missing-feature
policy holds; a bad configuration fails at startup, saying what to fix."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import prometheus_client.values
import pytest

from bastion.errors import ConfigError, InvalidRequest, UpstreamUnavailable
from bastion.features import enrich
from bastion.wiring import build_services, close_services
from tests.features.feast_repo import VIEW, feast_repo
from tests.features.test_lookup import call
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, rows, seed

# the `feast` extra (make feast-unit runs these in a venv that has it)
pytestmark = pytest.mark.skipif(importlib.util.find_spec("feast") is None, reason="no feast")
STARTED_WITH = os.environ.get("PROMETHEUS_MULTIPROC_DIR")  # before feast is imported


def feast_features() -> Any:
    from bastion.features.feast_store import FeastFeatures

    return FeastFeatures


NOW = datetime.now(UTC)
BEFORE = NOW - timedelta(days=2)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    old, new, other = rows(3)
    history = [(1, old, BEFORE), (1, new, NOW - timedelta(hours=1)), (2, other, BEFORE)]
    return feast_repo(tmp_path_factory.mktemp("feast"), history)


@pytest.fixture
async def served(tmp_path: Path, repo: Path) -> AsyncIterator[JobsEnv]:
    binding = {"deployment": MODEL, "table": VIEW, "entity_key": "patient_id"}
    features = {"source": "feast", "feast_repo": str(repo), "bindings": [binding]}
    settings = job_settings(tmp_path / "data", {"features": features})
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


async def test_online_lookup_through_feast_equals_its_point_in_time_export(
    served: JobsEnv,
) -> None:
    e = served
    source = e.svc.feature_source
    assert isinstance(source, feast_features())
    old, new, other = rows(3)
    binding = e.svc.settings.features.bindings[0]
    online = enrich(source, binding, {"patient_id": 1}, "input")
    assert online == new  # the newest materialized values, the entity key dropped
    exported = await source.as_of(VIEW, "1", datetime.now(UTC))
    assert dict(exported or {}) == online  # training reads what serving read
    assert dict(await source.as_of(VIEW, "1", BEFORE + timedelta(hours=1)) or {}) == old
    assert await source.as_of(VIEW, "1", BEFORE - timedelta(hours=1)) is None  # not yet known
    asks = [("2", NOW), ("1", BEFORE + timedelta(hours=1)), ("x", NOW), ("1", NOW)]
    assert await source.as_of_many(VIEW, asks) == [other, old, None, new]  # one join, in order
    fetched = await source.fetch(VIEW, ["1", "2", "1", "nobody"])
    assert fetched == {"1": new, "2": other}  # one round trip for a call's entities
    answer = await e.svc.pipeline(call(e, {"patient_id": 1}))
    direct = await e.svc.pipeline(call(e, new))
    assert answer.predictions[0].output == direct.predictions[0].output


async def test_the_missing_feature_policy_holds_with_feast(served: JobsEnv) -> None:
    e = served
    source = e.svc.feature_source
    assert source is not None
    binding = e.svc.settings.features.bindings[0]
    strict = binding.model_copy(update={"missing": "reject"})
    with pytest.raises(InvalidRequest, match="no features for patient_id='999'"):
        enrich(source, strict, {"patient_id": 999}, "input")
    lenient = binding.model_copy(
        update={"features": ["mean_radius", "not_in_feast"], "defaults": {"not_in_feast": 7.0}}
    )
    filled = enrich(source, lenient, {"patient_id": 2}, "input")
    assert filled == {"mean_radius": rows(3)[2]["mean_radius"], "not_in_feast": 7.0}
    with pytest.raises(InvalidRequest, match="no feature 'not_in_feast'"):
        enrich(source, lenient.model_copy(update={"missing": "reject"}), {"patient_id": 2}, "x")
    # through the pipeline: a default-policy call for an unknown entity gets the defaults
    partial: dict[str, Any] = dict(rows(1)[0])
    answer = await e.svc.pipeline(call(e, {"patient_id": 999, **partial}))
    direct = await e.svc.pipeline(call(e, partial))
    assert answer.predictions[0].output == direct.predictions[0].output


def test_importing_feast_leaves_prometheus_in_process(repo: Path) -> None:
    """feast's import points PROMETHEUS_MULTIPROC_DIR at its own directory; Bastion's import
    of it puts the variable back, so metrics stay in memory here and in child processes."""
    assert "feast" in sys.modules  # the repo fixture imported it (through Bastion)
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") == STARTED_WITH
    assert prometheus_client.values.ValueClass is prometheus_client.values.MutexValue


async def test_an_unreadable_online_store_is_a_502_naming_it(tmp_path: Path, repo: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    config = (repo / "feature_store.yaml").read_text()
    (broken / "feature_store.yaml").write_text(
        config.replace(str(repo / "online.db"), str(tmp_path / "no" / "such" / "online.db"))
    )
    source = feast_features()(broken, [VIEW])
    with pytest.raises(UpstreamUnavailable, match="Feast's online store could not be read"):
        await source.fetch(VIEW, ["1"])


async def test_a_bad_feast_configuration_fails_at_startup(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(ConfigError, match=r"no feature_store\.yaml"):
        feast_features()(tmp_path)
    with pytest.raises(ConfigError, match="'unknown' is not in the Feast registry"):
        feast_features()(repo, ["unknown"])
