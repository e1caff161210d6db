"""The ledgers on SQLite and PostgreSQL: a chunk counts once, leases hand a job over, orphan
usage is forgotten; quarantined rows of a re-run chunk replace the earlier ones; a batch
create with the same idempotency key returns the first batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from bastion.data.quarantine import Quarantined, QuarantineStore
from bastion.data.rules import Violation
from bastion.errors import Conflict
from bastion.jobs.batch_store import BatchStore
from bastion.jobs.ledger import JobLedger
from bastion.security import Principal
from bastion.store import Database
from bastion.store.usage_tables import UsageRow

OWNER = Principal("key_1", "ops", "acme", frozenset({"operator"}))


def usage(request_id: str) -> dict[str, object]:
    at = datetime.now(UTC)
    return {"at": at, "day": at.date().isoformat(), "request_id": request_id, "tenant": "acme",
            "team": None, "key_id": "key_1", "deployment": "m", "model": "m", "api": "batch",
            "cost_micros": 5, "prompt_tokens": 0, "completion_tokens": 0, "tokens": 0,
            "cached": False}  # fmt: skip


async def test_the_job_ledger(database: Database) -> None:
    ledger = JobLedger(database)
    job = await ledger.create(
        id="job_a", tenant="acme", key_id="key_1", created_by="ops", kind="batch",
        deployment="m", engine="local", status="queued", input_format="jsonl",
        output_format="parquet", filename="in.jsonl", chunk_rows=10, rows_total=25,
        options={}, rows_done=0, rows_failed=0, cost_micros=0, cancel_requested=False,
    )  # fmt: skip
    assert [j.id for j in await ledger.claim("p1", 60)] == [job.id]
    assert await ledger.claim("p2", 60) == []  # held by p1's lease
    await ledger.record_chunk(job.id, 0, 0, 10, 1, 90)
    with pytest.raises(Conflict):
        await ledger.record_chunk(job.id, 0, 0, 10, 1, 90)
    assert await ledger.totals(job.id) == (10, 1, 90)
    assert (await ledger.get(job.id)).rows_done == 10
    async with database.session() as session:
        await session.execute(
            insert(UsageRow), [usage("job_a-c0-0"), usage("job_a-c1-0"), usage("job_ab-c1-0")]
        )
        await session.commit()
    assert await ledger.forget_unrecorded_usage(job.id, {0}) == 1
    async with database.session() as session:
        left = sorted(await session.scalars(select(UsageRow.request_id)))
    assert left == ["job_a-c0-0", "job_ab-c1-0"]


async def test_a_queued_job_is_cancelled_only_while_nobody_holds_it(database: Database) -> None:
    """Cancel and claim race on a queued job: exactly one wins. A claimed job is not marked
    cancelled under its runner (which would then run it to the end); it is asked to stop."""
    ledger = JobLedger(database)

    async def queued(job_id: str) -> str:
        await ledger.create(
            id=job_id, tenant="acme", key_id="key_1", created_by="ops", kind="batch",
            deployment="m", engine="local", status="queued", input_format="jsonl",
            output_format="parquet", filename="in.jsonl", chunk_rows=10, rows_total=25,
            options={}, rows_done=0, rows_failed=0, cost_micros=0, cancel_requested=False,
        )  # fmt: skip
        return job_id

    free = await queued("job_free")
    assert await ledger.cancel_unclaimed(free, "cancelled before it started")
    after = await ledger.get(free)
    assert (after.status, after.error) == ("cancelled", "cancelled before it started")
    assert await ledger.claim("p1", 60) == []  # a cancelled job is never claimed
    assert not await ledger.cancel_unclaimed(free, "again")  # no longer queued

    held = await queued("job_held")
    assert [j.id for j in await ledger.claim("p1", 60)] == [held]
    assert not await ledger.cancel_unclaimed(held, "cancelled before it started")
    assert (await ledger.get(held)).status == "queued"  # its runner decides, on the flag


async def test_quarantine_and_batches(database: Database) -> None:
    store = QuarantineStore(database)
    bad = [Violation("r", "x", "x: too big")]
    held = [Quarantined("acme", "m", 1, "job_a", "", row, {"x": row}, bad) for row in (3, 12)]
    await store.add(held)
    await store.forget("job_a", range(0, 10))  # chunk 0 runs again
    await store.add(held[:1])
    rows = await store.list_rows("acme", all_tenants=False, source="job_a")
    assert sorted(r["row"] for r in rows) == [3, 12]
    assert await store.list_rows("globex", all_tenants=False) == []

    batches = BatchStore(database)
    fields = {"endpoint": "/v1/chat/completions", "input_file_id": "file-1"}
    fields.update(completion_window="24h", status="validating", total=2, meta={})
    first = await batches.create(OWNER, "idem-1", **fields)
    again = await batches.create(OWNER, "idem-1", **fields)
    other = await batches.create(OWNER, None, **fields)
    assert again.id == first.id != other.id
