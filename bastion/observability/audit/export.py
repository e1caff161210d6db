"""Exporting the log as JSON lines, and re-encrypting stored payloads under the newest key."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from bastion.observability.audit.base import AuditStore
from bastion.observability.audit.record import AuditRecord, canonical, payload_aad

if TYPE_CHECKING:
    from bastion.security.encryption import Encryptor

log = structlog.get_logger(__name__)


def record_json(record: AuditRecord, encryptor: Encryptor | None = None) -> dict[str, Any]:
    """One exported record; with an ``encryptor`` its payload is opened (``payload_plain``)."""
    out = record.to_json()
    if encryptor is not None and record.payload is not None:
        aad = payload_aad(record.input_sha256, record.output_sha256)
        out["payload_plain"] = orjson.loads(encryptor.decrypt(record.payload, aad))
    return out


async def export_jsonl(
    store: AuditStore,
    write: Callable[[bytes], Any],
    *,
    from_seq: int = 1,
    since: datetime | None = None,
    encryptor: Encryptor | None = None,
) -> int:
    """Write every record from ``from_seq`` (and at or after ``since``) as one JSON line each.

    Lines hold every chained field plus ``hash``, so an export can be verified on its own
    (``bastion audit verify --file``). Returns the number of records written.
    """
    count = 0
    async for record in store.scan(from_seq):
        if since is not None and record.at < since:
            continue
        write(orjson.dumps(record_json(record, encryptor)) + b"\n")
        count += 1
    return count


def record_from_json(line: dict[str, Any]) -> AuditRecord:
    """The inverse of ``AuditRecord.to_json`` (for verifying an export file)."""
    payload = line.get("payload")
    return AuditRecord(
        seq=int(line["seq"]),
        at=datetime.fromisoformat(str(line["at"]).replace("Z", "+00:00")),
        kind=line["kind"],
        action=line["action"],
        actor_key_id=line.get("actor_key_id"),
        actor_name=line.get("actor_name"),
        tenant=line.get("tenant"),
        deployment=line.get("deployment"),
        version=line.get("version"),
        request_id=line.get("request_id"),
        status=line["status"],
        error_type=line.get("error_type"),
        input_sha256=line.get("input_sha256"),
        output_sha256=line.get("output_sha256"),
        cost=line.get("cost"),
        decision=line.get("decision"),
        target=line.get("target"),
        guards=None if line.get("guards") is None else _text(line["guards"]),
        details=_text(line.get("details") or {}),
        prev_hash=line["prev_hash"],
        hash=line["hash"],
        payload=base64.b64decode(payload) if payload else None,
        payload_key=line.get("payload_key"),
    )


def _text(value: Any) -> str:
    return canonical(value).decode()


@dataclass(frozen=True, slots=True)
class RotationReport:
    reencrypted: int
    active_key: str


async def rotate_payloads(
    store: AuditStore, encryptor: Encryptor, *, batch: int = 500
) -> RotationReport:
    """Re-encrypt every stored payload that is not under the active key, a batch at a time.

    Safe while servers run: payloads are outside the hash chain and each batch is its own
    short transaction. Old keys must stay configured (as decrypt-only) until this finishes.
    """
    active, after, total = encryptor.active_key_id, 0, 0
    while True:
        records = await store.stale_payloads(active, after, batch)
        if not records:
            break
        changes = []
        for r in records:
            assert r.payload is not None
            aad = payload_aad(r.input_sha256, r.output_sha256)
            fresh = encryptor.reencrypt(r.payload, aad)
            if fresh is not None:
                changes.append((r.seq, fresh, active))
        await store.replace_payloads(changes)
        total += len(changes)
        after = records[-1].seq
        log.info("audit_payloads_reencrypted", records=len(changes), up_to_seq=after)
    return RotationReport(total, active)
