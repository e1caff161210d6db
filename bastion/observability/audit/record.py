"""Audit records: what a caller hands in (AuditEntry), what is stored and chained (AuditRecord)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson

from bastion.store.audit_tables import WIDTHS  # the columns' widths: text is clipped to them
from bastion.store.row_writer import utc_text

if TYPE_CHECKING:
    from bastion.store.actions_tables import OutboxIntent

GENESIS = "0" * 64
Kind = Literal["interaction", "admin", "action"]


_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8; the same value always gives the same bytes.

    Values orjson cannot take (lone surrogates, exotic objects) fall back to ASCII-escaped
    JSON with ``str`` for unknown objects, which is just as deterministic.
    """
    try:
        return orjson.dumps(value, option=_ORJSON)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
        return text.encode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(value: Any) -> str:
    """The sha256 of a value's canonical JSON (how input and output hashes are made)."""
    return sha256_hex(canonical(value))


def payload_aad(input_sha256: str | None, output_sha256: str | None) -> bytes:
    """Associated data binding an encrypted payload to the hashes of its record."""
    return f"bastion-audit:{input_sha256 or ''}:{output_sha256 or ''}".encode()


@dataclass(slots=True)  # not frozen: built on every call (see docs/architecture.md)
class AuditEntry:
    """One thing to record, before it gets its place (seq) and hashes in the chain."""

    kind: Kind
    action: str
    at: datetime
    actor_key_id: str | None = None
    actor_name: str | None = None
    tenant: str | None = None
    deployment: str | None = None
    version: int | None = None
    request_id: str | None = None
    status: str = "ok"
    error_type: str | None = None
    input_sha256: str | None = None
    output_sha256: str | None = None
    cost: float | None = None
    decision: str | None = None
    target: str | None = None
    guards: Any = None
    details: Mapping[str, Any] = field(default_factory=dict)
    payload: bytes | None = None
    payload_key: str | None = None
    # Action intents inserted in the same transaction as this record (bastion.actions): a
    # decision answered is a decision whose actions are durable. Not part of the hash; the
    # record's ``details["actions"]`` names their ids.
    outbox: tuple[OutboxIntent, ...] = ()


# The fields covered by ``hash``, in no particular order (canonical JSON sorts them).
CHAINED = (
    "seq",
    "at",
    "kind",
    "action",
    "actor_key_id",
    "actor_name",
    "tenant",
    "deployment",
    "version",
    "request_id",
    "status",
    "error_type",
    "input_sha256",
    "output_sha256",
    "cost",
    "decision",
    "target",
    "guards",
    "details",
    "prev_hash",
)


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """A stored record. ``guards`` and ``details`` are canonical JSON text, hashed as stored."""

    seq: int
    at: datetime
    kind: str
    action: str
    actor_key_id: str | None
    actor_name: str | None
    tenant: str | None
    deployment: str | None
    version: int | None
    request_id: str | None
    status: str
    error_type: str | None
    input_sha256: str | None
    output_sha256: str | None
    cost: float | None
    decision: str | None
    target: str | None
    guards: str | None
    details: str
    prev_hash: str
    hash: str
    payload: bytes | None = None
    payload_key: str | None = None

    def chained_fields(self) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in CHAINED}
        values["at"] = timestamp(self.at)
        return values

    def computed_hash(self) -> str:
        """sha256 over the canonical JSON of every chained field, ``prev_hash`` included."""
        return sha256_json(self.chained_fields())

    def to_json(self) -> dict[str, Any]:
        """The exported shape: JSON fields parsed, the (still encrypted) payload in base64."""
        out = self.chained_fields()
        out["guards"] = json.loads(self.guards) if self.guards is not None else None
        out["details"] = json.loads(self.details)
        out["hash"] = self.hash
        out["payload"] = base64.b64encode(self.payload).decode() if self.payload else None
        out["payload_key"] = self.payload_key
        return out

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_row(cls, row: Any) -> AuditRecord:
        """From any object with an attribute per field (a table row)."""
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


_FIELDS = tuple(AuditRecord.__dataclass_fields__)


def timestamp(at: datetime) -> str:
    """The hashed form of a time: UTC, microseconds, ``Z`` (``%Y-%m-%dT%H:%M:%S.%fZ``)."""
    moment = at if at.tzinfo else at.replace(tzinfo=UTC)
    return utc_text(moment.astimezone(UTC), "T") + "Z"


def seal(entry: AuditEntry, seq: int, prev_hash: str) -> AuditRecord:
    """Give ``entry`` its place after ``prev_hash``: clip, canonicalise and hash it."""
    return sealed(entry, seq, prev_hash)[0]


def sealed(entry: AuditEntry, seq: int, prev_hash: str) -> tuple[AuditRecord, str]:
    """``seal``, and the record's time as hashed (``timestamp(record.at)``), which a writer
    can store without formatting the time again."""
    at = (entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)).astimezone(UTC)
    stamp = utc_text(at, "T") + "Z"  # timestamp(at): ``at`` is UTC already
    kind = _clip(entry.kind, "kind") or "interaction"
    action = _clip(entry.action, "action") or "unknown"
    actor_key_id = _clip(entry.actor_key_id, "actor_key_id")
    actor_name = _clip(entry.actor_name, "actor_name")
    tenant = _clip(entry.tenant, "tenant")
    deployment = _clip(entry.deployment, "deployment")
    request_id = _clip(entry.request_id, "request_id")
    status = _clip(entry.status, "status") or "ok"
    error_type = _clip(entry.error_type, "error_type")
    cost = entry.cost if entry.cost is not None and math.isfinite(entry.cost) else None
    decision = _clip(entry.decision, "decision")
    target = _clip(entry.target, "target")
    guards = canonical(entry.guards).decode() if entry.guards is not None else None
    details = entry.details
    details_text = canonical(details if type(details) is dict else dict(details)).decode()
    # Every field of CHAINED, in the form AuditRecord.chained_fields() gives.
    hashed = {
        "seq": seq,
        "at": stamp,
        "kind": kind,
        "action": action,
        "actor_key_id": actor_key_id,
        "actor_name": actor_name,
        "tenant": tenant,
        "deployment": deployment,
        "version": entry.version,
        "request_id": request_id,
        "status": status,
        "error_type": error_type,
        "input_sha256": entry.input_sha256,
        "output_sha256": entry.output_sha256,
        "cost": cost,
        "decision": decision,
        "target": target,
        "guards": guards,
        "details": details_text,
        "prev_hash": prev_hash,
    }
    record = AuditRecord(  # positional, in field order: a keyword call costs twice as much
        seq,
        at,
        kind,
        action,
        actor_key_id,
        actor_name,
        tenant,
        deployment,
        entry.version,
        request_id,
        status,
        error_type,
        entry.input_sha256,
        entry.output_sha256,
        cost,
        decision,
        target,
        guards,
        details_text,
        prev_hash,
        sha256_json(hashed),
        entry.payload,
        _clip(entry.payload_key, "payload_key"),
    )
    return record, stamp


def _clip(value: str | None, column: str) -> str | None:
    """Storable text: valid UTF-8 without NUL (PostgreSQL refuses both), at most the width."""
    if value is None:
        return None
    if value.__class__ is str and value.isascii() and len(value) <= WIDTHS[column]:
        return value.replace("\x00", "\ufffd")  # the common case, in two C calls
    text = str(value)
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "\ufffd")[: WIDTHS[column]]
