"""Verify finds the first edited, deleted, inserted or reordered record (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from sqlalchemy import delete, insert

from bastion.observability.audit import AuditLog, AuditQuery, AuditRecord, verify_log
from bastion.observability.audit.sql import SqlAuditStore
from bastion.store import Database
from bastion.store.audit_tables import AuditRecordRow
from tests.observability.audit.conftest import entry


async def _ten(make_log: Callable[..., AuditLog]) -> tuple[SqlAuditStore, list[AuditRecord]]:
    log = make_log()
    for i in range(1, 11):
        await log.append(entry(i))
    store = log.store
    assert isinstance(store, SqlAuditStore)
    return store, await store.query(AuditQuery(limit=100))


async def _rewrite(db: Database, records: list[AuditRecord]) -> None:
    """Replace the table's content, as someone with write access to the database could."""
    async with db.session() as session:
        await session.execute(delete(AuditRecordRow))
        if records:
            await session.execute(insert(AuditRecordRow), [r.row() for r in records])
        await session.commit()


def _resealed(record: AuditRecord, **changes: object) -> AuditRecord:
    """The record changed and its own hash recomputed (its prev_hash kept)."""
    changed = dataclasses.replace(record, **changes)  # type: ignore[arg-type]
    return dataclasses.replace(changed, hash=changed.computed_hash())


def _rechained(records: list[AuditRecord], start: int) -> list[AuditRecord]:
    """Renumber from ``start`` and recompute every hash and link after it: a full forgery."""
    out = records[: start - 1]
    for i, r in enumerate(records[start - 1 :], start=start):
        prev = out[-1].hash if out else "0" * 64
        out.append(_resealed(r, seq=i, prev_hash=prev))
    return out


async def test_an_untouched_chain_verifies(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    report = await verify_log(store)
    assert report.ok and report.checked == 10
    assert (report.first_seq, report.last_seq, report.head_hash) == (1, 10, records[-1].hash)
    partial = await verify_log(store, from_seq=6, anchor=(8, records[7].hash))
    assert partial.ok and partial.checked == 5


async def test_an_edited_record_is_found(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    records[3] = dataclasses.replace(records[3], cost=0.0, decision="review_pending")
    await _rewrite(database, records)
    report = await verify_log(store)
    assert not report.ok and report.broken is not None
    assert (report.broken.seq, report.broken.problem) == (4, "edited")
    assert report.checked == 3


async def test_an_edited_and_rehashed_record_breaks_the_next_link(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    records[3] = _resealed(records[3], actor_name="mallory")
    await _rewrite(database, records)
    broken = (await verify_log(store)).broken
    assert broken is not None and (broken.seq, broken.problem) == (5, "inserted_or_reordered")


@pytest.mark.parametrize(("gone", "found_at"), [(5, 6), (1, 2)])
async def test_a_deleted_record_is_found(
    make_log: Callable[..., AuditLog], database: Database, gone: int, found_at: int
) -> None:
    store, records = await _ten(make_log)
    await _rewrite(database, [r for r in records if r.seq != gone])
    broken = (await verify_log(store)).broken
    assert broken is not None and (broken.seq, broken.problem) == (found_at, "deleted")
    assert f"{gone} are missing" in broken.message


async def test_a_deleted_and_renumbered_record_is_found(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    kept = [r for r in records if r.seq != 5]
    renumbered = kept[:4] + [_resealed(r, seq=r.seq - 1) for r in kept[4:]]
    await _rewrite(database, renumbered)
    broken = (await verify_log(store)).broken
    assert broken is not None and (broken.seq, broken.problem) == (5, "inserted_or_reordered")


async def test_an_inserted_record_is_found(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    forged = _resealed(records[3], seq=5, request_id="forged", prev_hash=records[3].hash)
    shifted = [_resealed(r, seq=r.seq + 1) for r in records[4:]]  # renumbered, self-hashed
    await _rewrite(database, [*records[:4], forged, *shifted])
    broken = (await verify_log(store)).broken
    assert broken is not None and (broken.seq, broken.problem) == (6, "inserted_or_reordered")


async def test_reordered_records_are_found(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    swapped = list(records)
    swapped[2], swapped[3] = (
        dataclasses.replace(records[3], seq=3),
        dataclasses.replace(records[2], seq=4),
    )
    await _rewrite(database, swapped)
    broken = (await verify_log(store)).broken
    assert broken is not None and (broken.seq, broken.problem) == (3, "edited")
    # swapped and each rehashed under its new place: the links give it away
    swapped[2], swapped[3] = _resealed(swapped[2]), _resealed(swapped[3])
    await _rewrite(database, swapped)
    broken = (await verify_log(store)).broken
    assert broken is not None and (broken.seq, broken.problem) == (3, "inserted_or_reordered")


async def test_a_rewritten_tail_or_truncation_needs_an_anchor(
    make_log: Callable[..., AuditLog], database: Database
) -> None:
    store, records = await _ten(make_log)
    anchor = (10, records[9].hash)  # the head, written down elsewhere earlier
    forged = _rechained([*records[:6], *records[7:]], 7)  # record 7 removed, tail re-chained
    await _rewrite(database, forged)
    assert (await verify_log(store)).ok  # a consistent forgery: only an anchor reveals it
    broken = (await verify_log(store, anchor=(9, records[8].hash))).broken
    assert broken is not None and broken.problem == "anchor_mismatch"
    await _rewrite(database, records[:8])  # the last two records deleted
    broken = (await verify_log(store, anchor=anchor)).broken
    assert broken is not None and (broken.seq, broken.problem) == (10, "deleted")
