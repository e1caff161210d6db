"""Live and batch schema changes through a server's pipeline: a renamed field and a unit
change in a live stream are flagged within 200 requests (watch window 200, every 100); a
batch whose input changed is blocked before any row is scored (on_schema_change: block)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bastion.errors import InvalidRequest
from bastion.pipeline import Call
from bastion.store import Database
from bastion.wiring import build_services, close_services
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, rows, seed, trained, write_jsonl


async def _with_profile(settings) -> None:  # type: ignore[no-untyped-def]
    """Store the training profile of version 1, as registration from the demo does."""
    from bastion.monitoring import ReferenceProfile
    from bastion.monitoring.references import ReferenceStore

    db = Database(settings.resolved_database_url)
    try:
        profile = ReferenceProfile.from_json(trained().profile)
        await ReferenceStore(db).put(MODEL, 1, profile, source="training", created_by="test")
    finally:
        await db.aclose()


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    extra = {
        "data": {
            "contracts": [{"deployment": MODEL, "profile": True, "on_schema_change": "block"}],
            "watch_window": 200,
            "watch_every": 100,
        },
        "alerts": {"rules": [{"name": "schema", "kind": "schema_change", "threshold": 0}]},
    }
    settings = job_settings(tmp_path / "data", extra)
    acme, globex = await seed(settings)
    await _with_profile(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


def call(e: JobsEnv, value: object) -> Call:
    return Call(request_id=f"w-{time.time_ns()}", deployment=MODEL, api="predict",
                inputs=[value], batched=False, started_at=time.perf_counter(),
                principal=e.acme)  # fmt: skip


async def test_a_rename_and_a_unit_change_in_live_traffic_are_flagged(watched: JobsEnv) -> None:
    e = watched
    data = e.svc.data
    assert data is not None
    for value in rows(100):  # normal traffic first: nothing to report
        await e.svc.pipeline(call(e, value))
    assert data.reported[MODEL].changes == 0
    flagged_at = None
    for sent, value in enumerate(rows(200), start=1):
        value["radius_mean"] = value.pop("mean_radius")  # the source renamed a field
        value["mean_area"] *= 100  # and changed a unit
        with pytest.raises(InvalidRequest):  # the schema refuses the renamed field…
            await e.svc.pipeline(call(e, value))
        if data.reported[MODEL].renamed:
            flagged_at = sent
            break
    assert flagged_at is not None  # …and the watch saw it within 200 requests
    found = data.reported[MODEL]
    assert {"from": "mean_radius", "to": "radius_mean"} in found.renamed
    assert "mean_area" in [u["field"] for u in found.unit]
    await e.svc.alerts.evaluate()  # type: ignore[union-attr]
    firing = await e.svc.alerts.active()  # type: ignore[union-attr]
    assert [(a.rule, a.deployment) for a in firing] == [("schema", MODEL)]


async def test_a_batch_whose_schema_changed_is_blocked_before_any_row(watched: JobsEnv) -> None:
    e = watched
    data = rows(50)
    for value in data:
        value["mean_area"] *= 100
    job = await e.finished(await e.submit(write_jsonl(e.root / "cm.jsonl", data)))
    assert job.status == "failed"
    assert job.error is not None and job.error.startswith("blocked_by_schema_change")
    assert "mean_area scaled" in job.error
    assert job.rows_done == 0 and job.cost_micros == 0
    ok = await e.finished(await e.submit(write_jsonl(e.root / "ok.jsonl", rows(50))))
    assert ok.status == "succeeded", ok.error
