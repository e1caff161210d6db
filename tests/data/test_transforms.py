"""Consistent transforms: one registered function prepares a raw input identically online
(the transform stage), in a batch job (through the same pipeline) and in training-row
export (the same Transform object over the feature table's values)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from bastion.errors import ConfigError
from bastion.jobs.typed import output_values
from bastion.pipeline import Call, Result, build_pipeline
from bastion.settings.data import DataSettings
from bastion.wiring import build_services, close_services
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, rows, seed, write_jsonl

FUNCTION = "tests.data.transform_fixture:mm_to_cm"


@pytest.fixture
async def transformed(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    data = {
        "transforms": [{"deployment": MODEL, "function": FUNCTION, "version": "1"}],
        "transform_modules": ["tests.data.transform_fixture"],
    }
    settings = job_settings(tmp_path / "data", {"data": data})
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


def raw(value: dict[str, Any]) -> dict[str, Any]:
    out = dict(value)
    out["mean_radius_mm"] = out.pop("mean_radius") * 10
    return out


def call(e: JobsEnv, value: Any) -> Call:
    return Call(request_id=f"t-{time.time_ns()}", deployment=MODEL, api="predict",
                inputs=[value], batched=False, started_at=time.perf_counter(),
                principal=e.acme)  # fmt: skip


async def test_online_batch_and_export_prepare_the_same_features(transformed: JobsEnv) -> None:
    e = transformed
    assert e.svc.data is not None and e.svc.features is not None
    source = rows(20)
    raws = [raw(v) for v in source]
    seen: list[Any] = []

    async def capture(c: Call) -> Result:
        seen.extend(c.inputs)
        return Result(MODEL, MODEL, 1, [])

    stage = e.svc.data.transform_stage()
    assert stage is not None
    await build_pipeline([stage], capture)(call(e, raws[0]))
    online_prepared = seen[0]
    assert online_prepared["mean_radius"] == pytest.approx(source[0]["mean_radius"])
    assert "mean_radius_mm" not in online_prepared

    online = [(await e.svc.pipeline(call(e, r))).predictions[0].output for r in raws]
    job = await e.finished(await e.submit(write_jsonl(e.root / "raw.jsonl", raws)))
    assert job.status == "succeeded", job.error
    out = pq.read_table(e.svc.jobs.files(job).output)  # type: ignore[union-attr]
    assert output_values(out) == online  # batch = online, same path

    await e.svc.features.load("raw", [("p0", dict(raws[0]), None)], None)
    found = await e.svc.features.as_of("raw", "p0", datetime.now(UTC))
    exported = e.svc.data.transforms[MODEL](dict(found or {}))
    assert exported == online_prepared  # training rows prepared exactly as serving prepared


def test_a_transform_from_a_module_not_allowed_is_refused() -> None:
    from bastion.data.transforms import load_transforms

    settings = DataSettings(
        transforms=[{"deployment": MODEL, "function": FUNCTION, "version": "1"}]
    )
    with pytest.raises(ConfigError, match="transform_modules"):
        load_transforms(settings.transforms, settings.transform_modules)
