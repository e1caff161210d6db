"""The audit stage: one committed record per call, payloads encrypted, a stream's end held
until its record is committed."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from bastion.backends.base import Prediction
from bastion.errors import Forbidden, Overloaded, UpstreamUnavailable
from bastion.observability.audit import (
    AuditLog,
    AuditQuery,
    AuditStage,
    record_json,
    sha256_json,
    verify_log,
)
from bastion.observability.audit.sql import SqlAuditStore
from bastion.pipeline import Call, Result
from bastion.pipeline.call import GuardReport
from bastion.pipeline.ending import StreamEnd, end_stream
from bastion.security import Principal
from bastion.security.encryption import Encryptor
from bastion.settings.audit import AuditSettings
from bastion.store import Database
from tests.observability.audit.conftest import Clock
from tests.observability.audit.test_log import GatedStore

ALICE = Principal("key_a", "alice", "acme", frozenset({"client"}))


def _call(inputs: list[Any], **kw: Any) -> Call:
    return Call("req-1", "scorer", "predict", inputs, False, time.perf_counter(), **kw)


def _result(outputs: list[Any], stream: AsyncIterator[bytes] | None = None) -> Result:
    return Result("scorer", "scorer", 2, [Prediction(o, 0.9) for o in outputs], stream=stream)


@pytest.fixture
def ring() -> Encryptor:
    return Encryptor.parse("k1:" + base64.b64encode(b"\x07" * 32).decode())


@pytest.fixture
async def log(database: Database, ring: Encryptor) -> AsyncIterator[AuditLog]:
    audit = AuditLog(SqlAuditStore(database), AuditSettings(), encryptor=ring, clock=Clock())
    yield audit
    await audit.aclose()


async def _records(log: AuditLog) -> list[Any]:
    return await log.store.query(AuditQuery(limit=100))


async def test_success_is_recorded_with_hashes_and_an_encrypted_payload(
    log: AuditLog, ring: Encryptor
) -> None:
    async def model(call: Call) -> Result:
        call.principal = ALICE  # set by authenticate, inside the audit stage
        call.inputs = [{"text": "[EMAIL]"}]  # a guard redacts; the audit saw the original
        call.cost_usd, call.guards = 0.002, GuardReport({"EMAIL": 1})
        return _result([{"label": "spam"}])

    result = await AuditStage(log)(_call([{"text": "me@example.com"}]), model)
    assert result.predictions[0].output == {"label": "spam"}
    [record] = await _records(log)
    assert (record.actor_key_id, record.actor_name, record.tenant) == ("key_a", "alice", "acme")
    assert (record.action, record.deployment, record.version) == ("predict", "scorer", 2)
    assert (record.status, record.decision, record.cost) == ("ok", "answered", 0.002)
    assert record.input_sha256 == sha256_json([{"text": "me@example.com"}])
    assert record.output_sha256 == sha256_json([{"label": "spam"}])
    assert orjson.loads(record.guards) == {"pii": {"EMAIL": 1}, "injection": None}
    assert record.payload is not None and b"example.com" not in record.payload
    opened = record_json(record, ring)["payload_plain"]
    assert opened == {"inputs": [{"text": "me@example.com"}], "outputs": [{"label": "spam"}]}
    assert (await verify_log(log.store, encryptor=ring)).payloads_checked == 1


async def test_no_key_means_no_payload(database: Database) -> None:
    log = AuditLog(SqlAuditStore(database), AuditSettings(), clock=Clock())
    try:
        await AuditStage(log)(_call([1]), lambda call: _async(_result([2])))
        [record] = await _records(log)
        assert record.payload is None and record.input_sha256 == sha256_json([1])
    finally:
        await log.aclose()


async def _async(value: Any) -> Any:
    return value


async def test_errors_are_recorded_and_reraised(log: AuditLog) -> None:
    async def refuse(call: Call) -> Result:
        raise Forbidden("key 'bob' may not use deployment 'scorer'")

    with pytest.raises(Forbidden):
        await AuditStage(log)(_call([1]), refuse)
    [record] = await _records(log)
    assert (record.status, record.error_type, record.actor_key_id) == ("error", "forbidden", None)
    assert record.output_sha256 is None and record.decision is None


async def test_an_unauditable_answer_is_not_sent(database: Database) -> None:
    store = GatedStore(database)  # never opens: the database is stuck
    log = AuditLog(store, AuditSettings(timeout_s=0.1), clock=Clock())
    try:
        with pytest.raises(Overloaded):
            await AuditStage(log)(_call([1]), lambda call: _async(_result([2])))
    finally:
        store.gate.set()
        await log.aclose()


async def _chunks(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _broken(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    raise UpstreamUnavailable("the upstream cut the stream")


async def test_a_stream_ends_only_once_its_record_is_committed(database: Database) -> None:
    store = GatedStore(database)
    log = AuditLog(store, AuditSettings(), clock=Clock())
    try:
        call = _call([{"messages": []}], stream=True)
        source = _chunks(b'data: {"a":1}\n\n', b'data: {"b":2}\n\n')
        result = await AuditStage(log)(call, lambda c: _async(_result([], source)))
        end = StreamEnd()
        relayed = end_stream(call, result, end)
        got = [await anext(relayed), await anext(relayed)]
        last = asyncio.create_task(anext(relayed, None))
        await store.entered.wait()
        assert not last.done() and not end.over  # the end waits for the commit
        store.gate.set()
        assert await last is None
        assert end.over and end.error is None
        [record] = await _records(log)
        assert record.status == "ok"
        assert record.output_sha256 == sha256_json(b"".join(got).decode())
    finally:
        store.gate.set()
        await log.aclose()


async def test_a_stream_that_cannot_be_audited_ends_with_an_error(database: Database) -> None:
    store = GatedStore(database)
    log = AuditLog(store, AuditSettings(timeout_s=0.1), clock=Clock())
    try:
        call = _call([{}], stream=True)
        source = _chunks(b'data: {"a":1}\n\n')
        result = await AuditStage(log)(call, lambda c: _async(_result([], source)))
        end = StreamEnd()
        chunks = [c async for c in end_stream(call, result, end)]
        assert chunks == [b'data: {"a":1}\n\n']
        assert isinstance(end.error, Overloaded)  # the adapter sends an error event, not [DONE]
    finally:
        store.gate.set()
        await log.aclose()


async def test_a_broken_stream_is_recorded_as_an_error(log: AuditLog) -> None:
    call = _call([{}], stream=True)
    result = await AuditStage(log)(call, lambda c: _async(_result([], _broken(b"data: {}\n\n"))))
    end = StreamEnd()
    assert [c async for c in end_stream(call, result, end)] == [b"data: {}\n\n"]
    assert isinstance(end.error, UpstreamUnavailable)
    [record] = await _records(log)
    assert (record.status, record.error_type) == ("error", "upstream_unavailable")


def test_a_columnar_batch_writes_its_own_canonical_bytes_and_a_list_does_not() -> None:
    """The audit asks a batch for its own bytes only when it has them; a plain list (every
    online call) is told apart without the Protocol check, and hashes as before."""
    import numpy as np

    from bastion.core.columns import FeatureRows
    from bastion.observability.audit.record import canonical
    from bastion.observability.audit.stage import _canonical, _is_canonical

    rows = FeatureRows(["a", "b"], np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert _is_canonical(rows) and _canonical(rows) == rows.canonical()
    plain = [{"a": 1.0, "b": 2.0}]
    assert not _is_canonical(plain) and _canonical(plain) == canonical(plain)

    class OwnBytes(list[Any]):
        def canonical(self) -> bytes:
            return b"own"

    assert _is_canonical(OwnBytes()) and _canonical(OwnBytes()) == b"own"
