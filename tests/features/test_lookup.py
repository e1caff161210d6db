"""Feature lookup: the enrich stage fills an input from the built-in table (from memory), the
missing-feature policy holds (default, reject, review: answered and queued for a human), and
the online row equals the exported training row for the same entity and time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bastion.errors import ConfigError, InvalidRequest
from bastion.features import enrich
from bastion.pipeline import Call
from bastion.wiring import build_services, close_services
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, rows, seed


@pytest.fixture
async def enriched(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    binding = {"deployment": MODEL, "table": "patients", "entity_key": "patient_id"}
    settings = job_settings(tmp_path / "data", {"features": {"bindings": [binding]}})
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


def call(e: JobsEnv, value: Any) -> Call:
    return Call(request_id=f"f-{time.time_ns()}", deployment=MODEL, api="predict",
                inputs=[value], batched=False, started_at=time.perf_counter(),
                principal=e.acme)  # fmt: skip


async def test_online_lookup_equals_the_point_in_time_export(enriched: JobsEnv) -> None:
    e = enriched
    features = e.svc.features
    assert features is not None
    old, new = rows(2)
    before = datetime.now(UTC) - timedelta(days=2)
    await features.load("patients", [("p1", old, before)], "acme")
    await features.load("patients", [("p1", new, None)], "acme")  # newer values, from now
    binding = e.svc.settings.features.bindings[0]
    served = enrich(features, binding, {"patient_id": "p1"}, "input")
    assert served == new  # the entity key is dropped, the newest features added
    exported = await features.as_of("patients", "p1", datetime.now(UTC))
    assert dict(exported or {}) == served  # training reads what serving read
    then = await features.as_of("patients", "p1", before + timedelta(hours=1))
    assert dict(then or {}) == old  # and what held two days ago, not today's values
    answer = await e.svc.pipeline(call(e, {"patient_id": "p1"}))
    direct = await e.svc.pipeline(call(e, new))
    assert answer.predictions[0].output == direct.predictions[0].output


async def test_a_missing_entity_follows_the_policy(enriched: JobsEnv) -> None:
    e = enriched
    binding = e.svc.settings.features.bindings[0]
    strict = binding.model_copy(update={"missing": "reject"})
    with pytest.raises(InvalidRequest, match="no feature"):
        enrich(e.svc.features, strict, {"patient_id": "nobody"}, "input")  # type: ignore[arg-type]
    lenient = binding.model_copy(
        update={"features": ["mean_radius"], "defaults": {"mean_radius": 1.0}}
    )
    filled = enrich(e.svc.features, lenient, {"patient_id": "nobody"}, "input")  # type: ignore[arg-type]
    assert filled == {"mean_radius": 1.0}


@pytest.fixture
async def reviewed(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    binding = {"deployment": MODEL, "table": "patients", "entity_key": "patient_id",
               "features": ["mean_radius"], "defaults": {"mean_radius": 14.0},
               "missing": "review"}  # fmt: skip
    extra = {"features": {"bindings": [binding]},
             "review": {"policies": [{"deployment": MODEL, "fallback": "model"}]}}  # fmt: skip
    settings = job_settings(tmp_path / "data", extra)
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


async def test_a_missing_feature_under_review_is_answered_and_queued_for_a_human(
    reviewed: JobsEnv,
) -> None:
    e = reviewed
    assert e.svc.features is not None and e.svc.review is not None
    given = {k: v for k, v in rows(1)[0].items() if k != "mean_radius"}
    await e.svc.features.load("patients", [("p1", {"mean_radius": 15.0}, None)], "acme")
    known = call(e, {"patient_id": "p1", **given})
    await e.svc.pipeline(known)
    assert known.review is None  # every feature found: answered, nothing queued
    unknown = call(e, {"patient_id": "nobody", **given})
    answer = await e.svc.pipeline(unknown)
    direct = await e.svc.pipeline(call(e, {**given, "mean_radius": 14.0}))
    assert answer.predictions[0].output == direct.predictions[0].output  # the default served
    assert unknown.review is not None and unknown.review.status == "pending"
    item_id = unknown.review.to_dict()["items"][0]["review_id"]
    item = await e.svc.review.queue.get(item_id)
    assert item is not None and item.triggers == ("features",)


def test_review_of_missing_features_needs_a_review_policy(tmp_path: Path) -> None:
    binding = {"deployment": MODEL, "table": "t", "entity_key": "id", "missing": "review"}
    with pytest.raises(ConfigError, match=r"review\.policies has no policy"):
        job_settings(tmp_path, {"features": {"bindings": [binding]}})
