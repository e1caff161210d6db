"""The prediction log: every served prediction, sealed by the PII policy, found again by id."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

import orjson
import structlog
from sqlalchemy import Table, delete, insert, select

from bastion.errors import ConfigError
from bastion.monitoring.sliced_insert import SlicedInsert
from bastion.store import Database
from bastion.store.monitoring_tables import PredictionRow
from bastion.store.row_writer import RowWriter

log = structlog.get_logger(__name__)

Scrub = Callable[[Any], Any]
PartScrub = Callable[[Any, Scrub], Any]
FLUSH_WAIT_S = 5.0
_TABLE = cast(Table, PredictionRow.__table__)


class Encryptor(Protocol):
    """The slice of ``bastion.security.encryption.Encryptor`` the log uses."""

    def encrypt(self, data: bytes, aad: bytes = b"") -> bytes: ...

    def decrypt(self, data: bytes, aad: bytes = b"") -> bytes: ...


@dataclass(frozen=True, slots=True)
class LoggedPrediction:
    """One logged request: its inputs and outputs in item order. ``segments`` are the first
    item's (header segments are the same for every item). Inputs that were not logged (PII
    policy, ``prediction_log.inputs: off``) are None."""

    request_id: str
    deployment: str
    model: str
    version: int
    tenant: str
    inputs: list[Any]
    outputs: list[Any]
    confidences: list[float | None]
    segments: dict[str, str]
    at: datetime


class Sealer:
    """Turns payloads into stored bytes: PII-scrubbed, or encrypted with the app's key.

    ``encryptor`` is looked up when used (the app's key ring is attached after start-up).
    """

    def __init__(
        self,
        encryptor: Callable[[], Encryptor | None] = lambda: None,
        scrub: Scrub | None = None,
    ) -> None:
        self._encryptor = encryptor
        self._scrub = scrub

    def seal(
        self, value: Any, aad: bytes, *, clear: bool, redacted: PartScrub | None = None
    ) -> tuple[bytes, str]:
        """(stored bytes, mode): ``scrubbed`` (the default), ``encrypted`` (``clear``: a
        tenant that opted into payloads as sent, with a key) or ``omitted`` (nothing to
        scrub with). Raw payloads are never stored in clear text: without a key, ``clear``
        falls back to scrubbing. (Rows written before 2026-12 may still read ``plain``.)

        ``redacted``, when given, scrubs ``value`` knowing that parts of it were redacted
        already (by the guard stage, with every PII type): it gets the scrub function and
        skips those parts, so no text is searched for PII twice."""
        if clear:
            encryptor = self._encryptor()
            if encryptor is not None:
                return encryptor.encrypt(dumps(value), aad), "encrypted"
        if self._scrub is not None:
            if redacted is not None:
                return dumps(redacted(value, self._scrub)), "scrubbed"
            return dumps(self._scrub(value)), "scrubbed"
        return dumps(None), "omitted"

    def scrubbed(self, value: Any) -> Any:
        """``value`` with its PII redacted (unchanged when there is no scrubber)."""
        return self._scrub(value) if self._scrub is not None else value

    def open(self, blob: bytes | None, mode: str, aad: bytes) -> Any:
        if blob is None:
            return None
        if mode == "encrypted":
            encryptor = self._encryptor()
            if encryptor is None:
                raise ConfigError(
                    "this logged prediction is encrypted but no encryption key is configured; "
                    "start Bastion with the key it was written with"
                )
            blob = encryptor.decrypt(blob, aad)
        return orjson.loads(blob)


# Value types a PII scrub returns unchanged: a container of only these holds no text.
_NO_TEXT = frozenset({int, float, bool, type(None)})


def sparing(scrub: Scrub) -> Scrub:
    """``scrub`` (a scrub like ``PiiDetector.scrub``, which changes strings only and copies
    every container) sparing the parts that hold no text: a dict or list whose values are
    all numbers, booleans or null is returned as it is, not walked value by value (a tabular
    input's features, a classifier's probabilities). Its result serialises to the same JSON
    as ``scrub``'s, but may share such parts with ``value``: for payloads dumped at once."""

    def walk(value: Any) -> Any:
        cls = value.__class__
        if cls in _NO_TEXT:
            return value
        if cls is dict:
            if _NO_TEXT.issuperset(map(type, value.values())):
                return value
            return {k: walk(v) for k, v in value.items()}
        if cls is list and _NO_TEXT.issuperset(map(type, value)):
            return value
        return scrub(value)

    return walk


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY)


def prediction_aad(request_id: str, index: int) -> bytes:
    return f"prediction:{request_id}:{index}".encode()


class PredictionLog:
    """Reads and writes ``prediction_log`` rows; writes come in batches from the writer.

    ``flush`` (set by the service) waits for predictions still queued in this process, so a
    lookup right after a response finds its prediction.
    """

    def __init__(self, db: Database, sealer: Sealer, *, rows: RowWriter | None = None) -> None:
        self._db = db
        self._rows = rows  # on a SQLite file: its one writer thread (the audit log's)
        self.sealer = sealer
        self.flush: Callable[[], Awaitable[None]] | None = None
        self._insert = SlicedInsert(_TABLE)

    async def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert many rows in one statement and one transaction (Core: half the ORM's cost);
        on SQLite their values are converted before, in slices (``sliced_insert.py``), and
        written by the file's one writer thread when there is one (``store/row_writer.py``)."""
        if not rows:
            return
        dialect = self._db.engine.dialect
        params = await self._insert.prepare(dialect, rows)
        if params is not None and self._rows is not None:
            await self._rows.insert(self._insert.sql(dialect), params)
            return
        async with self._db.engine.begin() as connection:
            if params is None:
                await connection.execute(insert(_TABLE), list(rows))
            else:
                await self._insert.execute(connection, params)

    async def get(self, request_id: str, *, tenant: str | None = None) -> LoggedPrediction | None:
        """The newest logged request with this id (within ``tenant`` when given), or None."""
        rows = await self.rows(request_id, tenant=tenant)
        if not rows:
            return None
        first = rows[0]
        payloads = [self.open(r) for r in rows]
        return LoggedPrediction(
            request_id=first.request_id,
            deployment=first.deployment,
            model=first.model,
            version=first.version,
            tenant=first.tenant,
            inputs=[p.get("input") for p in payloads],
            outputs=[p.get("output") for p in payloads],
            confidences=[r.confidence for r in rows],
            segments=dict(first.segments or {}),
            at=first.at,
        )

    async def rows(self, request_id: str, *, tenant: str | None = None) -> list[PredictionRow]:
        """The rows of the newest request logged with this id, in item order."""
        if self.flush is not None:  # bounded: a backlog under load must not hold a lookup
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush(), FLUSH_WAIT_S)
        query = select(PredictionRow).where(PredictionRow.request_id == request_id)
        if tenant is not None:
            query = query.where(PredictionRow.tenant == tenant)
        async with self._db.session() as session:
            found = list(await session.scalars(query.order_by(PredictionRow.id.desc()).limit(2000)))
        if not found:
            return []
        newest = found[0]
        same = [
            r
            for r in found
            if r.deployment == newest.deployment and r.at == newest.at and r.tenant == newest.tenant
        ]
        return sorted(same, key=lambda r: r.item_index)

    def open(self, row: PredictionRow) -> dict[str, Any]:
        """``{"input": ..., "output": ...}`` of one row (input None when not logged)."""
        payload = self.sealer.open(
            row.payload, row.mode, prediction_aad(row.request_id, row.item_index)
        )
        return payload if isinstance(payload, dict) else {"input": None, "output": None}

    async def recent(
        self, deployment: str, version: int, since: datetime, limit: int
    ) -> list[PredictionRow]:
        """The newest ``limit`` rows of a deployment version logged since ``since``."""
        query = (
            select(PredictionRow)
            .where(
                PredictionRow.deployment == deployment,
                PredictionRow.version == version,
                PredictionRow.at >= since,
            )
            .order_by(PredictionRow.at.desc())
            .limit(limit)
        )
        async with self._db.session() as session:
            return list(await session.scalars(query))

    async def model_of(self, deployment: str, version: int) -> str | None:
        """The model that served ``deployment`` ``version`` most recently, per the log."""
        query = (
            select(PredictionRow.model)
            .where(PredictionRow.deployment == deployment, PredictionRow.version == version)
            .order_by(PredictionRow.id.desc())
            .limit(1)
        )
        async with self._db.session() as session:
            found: str | None = await session.scalar(query)
            return found

    async def purge(self, before: datetime) -> int:
        """Delete predictions logged before ``before``; returns how many."""
        async with self._db.session() as session:
            result = await session.execute(delete(PredictionRow).where(PredictionRow.at < before))
            await session.commit()
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            log.info("prediction_log_purged", rows=count, before=before.isoformat())
        return count
