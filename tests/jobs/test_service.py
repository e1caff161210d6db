"""Batch jobs in one server: every row answered or refused with a reason, once; cost charged
once; atomic outputs; tenants apart; a refused create leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from bastion.errors import InvalidRequest, NotFound
from bastion.jobs.typed import output_values
from bastion.store.jobs_tables import JobRow
from bastion.store.usage_tables import UsageRow
from tests.jobs.conftest import PRICE, JobsEnv, rows, write_jsonl


async def test_a_jsonl_file_is_scored_row_by_row_with_bad_rows_in_the_error_file(
    jobs_env: JobsEnv,
) -> None:
    good = rows(250)
    missing = dict(good[0])
    del missing["mean_radius"]
    path = write_jsonl(
        jobs_env.root / "in.jsonl",
        good,
        bad_lines={10: b"{not json", 120: orjson.dumps(missing)},
    )
    job = await jobs_env.finished(await jobs_env.submit(path))
    assert job.status == "succeeded", job.error
    assert (job.rows_total, job.rows_done, job.rows_failed) == (252, 252, 2)
    files = jobs_env.svc.jobs.files(job)  # type: ignore[union-attr]
    out = pq.read_table(files.output).to_pylist()
    answered = [r["row"] for r in out]
    assert answered == sorted(set(range(252)) - {10, 120})  # each row once, in order
    assert {r["verdict"] for r in out} == {"ok"}
    assert all(
        v["label"] in ("malignant", "benign") for v in output_values(pq.read_table(files.output))
    )
    errors = [orjson.loads(line) for line in files.errors.read_bytes().splitlines()]
    assert [(e["row"], e["code"]) for e in errors] == [
        (10, "malformed_row"),
        (120, "invalid_request"),
    ]
    assert "mean_radius" in errors[1]["message"]
    assert job.cost_micros == 250 * PRICE * 1_000_000
    assert await jobs_env.svc.jobs.ledger.totals(job.id) == (252, 2, job.cost_micros)  # type: ignore[union-attr]
    await jobs_env.svc.governance.recorder.flush()  # type: ignore[union-attr]
    async with jobs_env.svc.db.session() as session:
        charged = await session.scalar(
            select(func.sum(UsageRow.cost_micros)).where(UsageRow.request_id.like(f"{job.id}-%"))
        )
    assert charged == job.cost_micros
    assert not files.parts.exists()  # the parts are gone once the output is complete


async def test_csv_parquet_and_jsonl_give_the_same_answers(jobs_env: JobsEnv) -> None:
    data = rows(120)
    table = pa.Table.from_pylist(data)
    pq.write_table(table, jobs_env.root / "in.parquet")
    pacsv.write_csv(table, jobs_env.root / "in.csv")
    write_jsonl(jobs_env.root / "in.jsonl", data)
    outputs = {}
    for name in ("in.parquet", "in.csv", "in.jsonl"):
        job = await jobs_env.finished(
            await jobs_env.submit(jobs_env.root / name, output_format="jsonl")
        )
        assert job.status == "succeeded", job.error
        path = jobs_env.svc.jobs.files(job).output  # type: ignore[union-attr]
        outputs[name] = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert len(outputs["in.parquet"]) == 120
    assert outputs["in.parquet"] == outputs["in.csv"] == outputs["in.jsonl"]


async def test_another_tenant_sees_no_job_and_a_refused_create_stores_nothing(
    jobs_env: JobsEnv, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", rows(5))
    job = await jobs_env.submit(path)
    jobs = jobs_env.svc.jobs
    assert jobs is not None
    with pytest.raises(NotFound):
        await jobs.get(jobs_env.globex, job.id)
    assert [j.id for j in await jobs.list_jobs(jobs_env.globex)] == []
    assert [j.id for j in await jobs.list_jobs(jobs_env.acme)] == [job.id]
    before = sorted(p.name for p in (jobs_env.svc.settings.data_dir / "jobs").iterdir())
    with pytest.raises(NotFound):
        await jobs_env.submit(path, deployment="no-such-model")
    with pytest.raises(InvalidRequest):
        await jobs_env.submit(path, output_format="xlsx")
    async with jobs_env.svc.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(JobRow)) == 1
    after = sorted(p.name for p in (jobs_env.svc.settings.data_dir / "jobs").iterdir())
    assert after == before


async def test_a_cancelled_job_stops_and_keeps_no_output(jobs_env: JobsEnv) -> None:
    from bastion.errors import Conflict

    jobs = jobs_env.svc.jobs
    assert jobs is not None
    job = await jobs_env.submit(write_jsonl(jobs_env.root / "big.jsonl", rows(3000)))
    await jobs.cancel(jobs_env.acme, job.id)
    job = await jobs_env.finished(job)
    assert job.status == "cancelled"
    assert job.rows_done < 3000
    assert not jobs.files(job).output.exists()  # no partial output under the final name
    with pytest.raises(Conflict):
        await jobs.cancel(jobs_env.acme, job.id)
    with pytest.raises(NotFound):
        await jobs.cancel(jobs_env.globex, job.id)
