"""Verifying the chain: the first edited, deleted, inserted or reordered record, if any."""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from bastion.errors import BastionError
from bastion.observability.audit.base import AuditStore
from bastion.observability.audit.record import GENESIS, AuditRecord, payload_aad, sha256_json

if TYPE_CHECKING:
    from bastion.security.encryption import Encryptor

Problem = Literal["edited", "deleted", "inserted_or_reordered", "anchor_mismatch", "bad_payload"]


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken link: where, what kind, and what it means."""

    seq: int
    problem: Problem
    message: str


@dataclass(frozen=True, slots=True)
class VerifyReport:
    ok: bool
    checked: int
    first_seq: int | None
    last_seq: int | None
    head_hash: str | None
    payloads_checked: int = 0
    broken: ChainBreak | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ok": self.ok,
            "checked": self.checked,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "payloads_checked": self.payloads_checked,
            "broken": None,
        }
        if self.broken is not None:
            b = self.broken
            out["broken"] = {"seq": b.seq, "problem": b.problem, "message": b.message}
        return out


async def verify_log(
    store: AuditStore,
    *,
    from_seq: int = 1,
    anchor: tuple[int, str] | None = None,
    encryptor: Encryptor | None = None,
) -> VerifyReport:
    """Walk the stored chain from ``from_seq`` (trusting the record just before it).

    ``anchor`` (seq, hash) is a head recorded elsewhere earlier: the record at that seq must
    still have that hash, which catches a tail rewritten from some point on. With an
    ``encryptor`` every stored payload is also opened and checked against its record's hashes.
    """
    start = max(1, from_seq)
    records = store.scan(start - 1 if start > 1 else 1)
    return await verify_records(records, from_seq=start, anchor=anchor, encryptor=encryptor)


async def verify_records(
    records: AsyncIterable[AuditRecord],
    *,
    from_seq: int = 1,
    anchor: tuple[int, str] | None = None,
    encryptor: Encryptor | None = None,
) -> VerifyReport:
    """Check records given in ``seq`` order; the first one below ``from_seq`` seeds the link."""
    expected_seq, expected_prev = from_seq, GENESIS if from_seq == 1 else None
    checked = payloads = 0
    first: int | None = None
    last: AuditRecord | None = None
    anchored = anchor is None

    def report(broken: ChainBreak | None) -> VerifyReport:
        return VerifyReport(
            ok=broken is None,
            checked=checked,
            first_seq=first,
            last_seq=last.seq if last else None,
            head_hash=last.hash if last else None,
            payloads_checked=payloads,
            broken=broken,
        )

    async for record in records:
        if record.seq < from_seq:  # the record just before the range: trusted, seeds the link
            expected_seq, expected_prev = record.seq + 1, record.hash
            continue
        first = record.seq if first is None else first
        broken = _check(record, expected_seq, expected_prev)
        if broken is None and anchor is not None and record.seq == anchor[0]:
            anchored = True
            if record.hash != anchor[1]:
                broken = ChainBreak(
                    record.seq,
                    "anchor_mismatch",
                    f"record {record.seq} no longer has the anchored hash {anchor[1][:16]}…: "
                    "the log was rewritten from this record on (or before it)",
                )
        if broken is None and encryptor is not None and record.payload is not None:
            broken = _check_payload(record, encryptor)
            payloads += 1
        if broken is not None:
            return report(broken)
        checked += 1
        last = record
        expected_seq, expected_prev = record.seq + 1, record.hash
    if not anchored and anchor is not None:
        end = last.seq if last else from_seq - 1
        return report(
            ChainBreak(
                anchor[0],
                "deleted",
                f"the anchored record {anchor[0]} is gone: the log ends at {end} (records at "
                "the end were deleted)",
            )
        )
    return report(None)


def _check(record: AuditRecord, expected_seq: int, expected_prev: str | None) -> ChainBreak | None:
    seq = record.seq
    if seq != expected_seq:
        gap = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}..{seq - 1}"
        return ChainBreak(seq, "deleted", f"record(s) {gap} are missing before record {seq}")
    if record.computed_hash() != record.hash:
        return ChainBreak(
            seq, "edited", f"record {seq} was altered: its contents no longer match its hash"
        )
    if expected_prev is not None and record.prev_hash != expected_prev:
        return ChainBreak(
            seq,
            "inserted_or_reordered",
            f"record {seq} does not follow record {seq - 1}: its prev_hash is not that "
            "record's hash (a record was inserted, reordered, or removed and renumbered)",
        )
    return None


def _check_payload(record: AuditRecord, encryptor: Encryptor) -> ChainBreak | None:
    assert record.payload is not None
    try:
        opened = orjson.loads(
            encryptor.decrypt(
                record.payload, payload_aad(record.input_sha256, record.output_sha256)
            )
        )
    except BastionError as exc:
        return ChainBreak(record.seq, "bad_payload", f"record {record.seq}: {exc.message}")
    if sha256_json(opened.get("inputs")) != record.input_sha256 or (
        record.output_sha256 is not None
        and sha256_json(opened.get("outputs")) != record.output_sha256
    ):
        return ChainBreak(
            record.seq,
            "bad_payload",
            f"record {record.seq}: its payload does not match its input/output hashes",
        )
    return None
