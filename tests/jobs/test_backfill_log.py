"""A backfill from the prediction log: inputs logged in the period are exported with what
was answered and re-run through the pinned version; a period with no traffic is refused."""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from bastion.app import build_services, close_services
from bastion.errors import InvalidRequest
from bastion.jobs.backfill import export_log
from bastion.pipeline import Call
from tests.jobs.conftest import MODEL, JobsEnv, job_settings, rows, seed


@pytest.fixture
async def monitored(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    settings = job_settings(tmp_path / "data", {"monitoring": {"enabled": True}})
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


async def test_logged_inputs_are_re_run_and_compared(monitored: JobsEnv) -> None:
    e = monitored
    assert e.svc.monitoring is not None and e.svc.predictions is not None and e.svc.jobs
    start = datetime.now(UTC) - timedelta(seconds=1)
    data = rows(30)
    call = Call(request_id="live-1", deployment=MODEL, api="predict", inputs=data, batched=True,
                started_at=time.perf_counter(), principal=e.acme)  # fmt: skip
    await e.svc.pipeline(call)
    await e.svc.monitoring.settle()  # the log's writer has written the 30 rows
    end = datetime.now(UTC) + timedelta(seconds=1)

    def export(since: datetime, until: datetime):  # type: ignore[no-untyped-def]
        return functools.partial(export_log, e.svc.predictions, e.svc.db, MODEL, since, until,
                                 "acme")  # fmt: skip

    job = await e.svc.jobs.create_backfill(
        e.acme, export(start, end), deployment=MODEL, version=1, rows_per_s=None,
        source={"log": MODEL},
    )  # fmt: skip
    job = await e.finished(job)
    assert job.status == "succeeded", job.error
    assert job.rows_done == 30 and job.kind == "backfill"
    report = orjson.loads(e.svc.jobs.report(job).read_bytes())
    assert report["overall"] == {"rows": 30, "answered": 30, "agreement": 1.0, "labelled": 0}
    with pytest.raises(InvalidRequest, match="no logged inputs"):
        await e.svc.jobs.create_backfill(
            e.acme, export(end, end + timedelta(hours=1)), deployment=MODEL, version=1,
            rows_per_s=None, source={},
        )  # fmt: skip
