"""The prediction log: rows found again by id and tenant, sealed by policy, purged, batched."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bastion.errors import ConfigError
from bastion.monitoring.features import features_of, outcome_of
from bastion.monitoring.predictions import Sealer
from bastion.monitoring.writer import BackgroundWriter
from bastion.security.encryption import Encryptor
from bastion.settings.guards import DeploymentGuardSettings, GuardsSettings
from bastion.settings.monitoring import MonitoringSettings
from bastion.store import Database
from tests.monitoring.logged import entry, log, service


async def test_a_request_is_found_again_with_its_items_in_order(database: Database) -> None:
    svc = service(
        database,
        deployments=[
            {
                "deployment": "churn",
                "segments": [
                    {"name": "plan", "header": "plan"},
                    {"name": "region", "field": "region"},
                ],
            }
        ],
    )
    outputs = [{"label": "stay"}, {"label": "leave"}, {"label": "stay"}]
    inputs = [{"region": "eu", "x": 1}, {"region": "us", "x": 2}, {"x": 3}]
    await log(
        svc,
        entry("r1", outputs, inputs=inputs, confidences=[0.9, 0.6, None], headers={"plan": "pro"}),
        entry("r2", [{"label": "stay"}], tenant="acme"),
    )
    got = await svc.predictions.get("r1")
    assert got is not None
    assert (got.deployment, got.model, got.version, got.tenant) == ("churn", "churn", 1, "default")
    assert got.inputs == inputs and got.outputs == outputs
    assert got.confidences == [0.9, 0.6, None]
    assert got.segments == {"plan": "pro", "region": "eu"}
    rows = await svc.predictions.rows("r1")
    assert [(r.label, r.segments["region"]) for r in rows] == [
        ("stay", "eu"),
        ("leave", "us"),
        ("stay", "unknown"),
    ]
    assert await svc.predictions.get("r1", tenant="acme") is None
    assert await svc.predictions.get("r2", tenant="acme") is not None
    assert await svc.predictions.get("nope") is None


async def test_a_reused_request_id_finds_the_newest_request(database: Database) -> None:
    svc = service(database)
    await log(svc, entry("same", [{"label": "a"}], at=1_000_000.0))
    await log(svc, entry("same", [{"label": "b"}, {"label": "c"}], at=2_000_000.0))
    got = await svc.predictions.get("same")
    assert got is not None and got.outputs == [{"label": "b"}, {"label": "c"}]


def _encryptor() -> Encryptor:
    return Encryptor([("k1", os.urandom(32))])


async def test_payloads_are_scrubbed_unless_the_tenant_opted_into_sealed_payloads(
    database: Database,
) -> None:
    # Fewer than every type: the guard's redaction does not count as scrubbing (see below).
    private = DeploymentGuardSettings(deployment="private", pii="redact", pii_types=["email"])
    guards = GuardsSettings(policies=[private])
    settings = MonitoringSettings(
        drift={"enabled": False},
        prediction_log={"private_tenants": ["secretive"], "clear_tenants": ["sealed", "secretive"]},
    )
    from bastion.monitoring.service import MonitoringService

    svc = MonitoringService(settings, database, guards=guards, scrub=lambda v: "[SCRUBBED]")
    text = {"text": "mail me at ann@example.com"}
    chat = {"user": "ann@example.com", "messages": [{"role": "user", "content": "at [EMAIL]"}]}
    await log(
        svc,
        entry(
            "open", [1.0], inputs=[text]
        ),  # the model routes' policy is "allow": scrubbed all the same
        entry("closed", [1.0], inputs=[text], deployment="private"),
        entry("tenant", [1.0], inputs=[text], tenant="secretive"),  # private wins over clear
        # a chat as the guard stage (LLM default: redact every type) hands it on: the
        # contents redacted already, the rest of the body still to scrub
        entry("chat", [1.0], inputs=[chat], deployment="group", llm=True),
        entry("nokey", [1.0], inputs=[text], tenant="sealed"),  # opted in, but no key: scrubbed
    )
    rows = {
        rid: (await svc.predictions.rows(rid))[0]
        for rid in ("open", "closed", "tenant", "chat", "nokey")
    }
    assert {rid: row.mode for rid, row in rows.items()} == dict.fromkeys(rows, "scrubbed")
    assert [r for r, row in rows.items() if b"ann@example.com" in row.payload] == []
    closed = await svc.predictions.get("closed")
    assert closed is not None and closed.inputs == [None] and closed.outputs == [None]

    keys = _encryptor()
    svc.outlets.encryptor = keys
    await log(
        svc,
        entry("sealed", [{"label": "x"}], inputs=[text], tenant="sealed"),
        entry("other", [{"label": "x"}], inputs=[text]),
    )
    row = (await svc.predictions.rows("sealed"))[0]
    assert row.mode == "encrypted" and b"ann@example.com" not in row.payload
    sealed = await svc.predictions.get("sealed", tenant="sealed")
    assert sealed is not None and sealed.inputs == [text] and row.label == "x"
    assert (await svc.predictions.rows("other"))[0].mode == "scrubbed"

    svc.outlets.encryptor = None
    with pytest.raises(ConfigError, match="no encryption key"):
        await svc.predictions.get("sealed")


async def test_a_guard_redacted_chat_is_not_searched_twice(database: Database) -> None:
    """The guard stage redacted the messages' contents with every PII type: the log scrubs
    the rest of the body and the answer, and leaves those contents as the guard made them.
    A policy with fewer types redacted less, so there the contents are scrubbed again."""
    from bastion.guards import PiiDetector
    from bastion.monitoring.service import MonitoringService

    guards = GuardsSettings(
        policies=[DeploymentGuardSettings(deployment="few", pii="redact", pii_types=["email"])]
    )
    settings = MonitoringSettings(drift={"enabled": False})
    searched: list[str] = []
    detector = PiiDetector()

    def scrub(value: Any) -> Any:
        if isinstance(value, str):
            searched.append(value)
        return detector.scrub(value)

    svc = MonitoringService(settings, database, guards=guards, scrub=scrub)
    body = {
        "model": "group",
        "user": "ann@example.com",
        "messages": [{"role": "user", "content": "call me on 4111 1111 1111 1111"}],
    }
    answer = {"id": "chatcmpl-12345", "role": "assistant", "content": "write to bob@example.com"}
    await log(svc, entry("all", [answer], inputs=[body], deployment="group", llm=True))
    # the answer's text and the unguarded field; not the guarded prompt, ids or roles
    assert sorted(searched) == ["ann@example.com", "write to bob@example.com"]
    await log(svc, entry("few", [answer], inputs=[body], deployment="few", llm=True))
    full = await svc.predictions.get("all")
    assert full is not None
    assert full.inputs[0]["messages"][0]["content"] == "call me on 4111 1111 1111 1111"
    assert full.inputs[0]["user"] == "[EMAIL]"
    assert full.outputs == [{**answer, "content": "write to [EMAIL]"}]
    few = await svc.predictions.get("few")
    assert few is not None and few.inputs[0]["messages"][0]["content"] == "call me on [CARD]"


async def test_inputs_off_keeps_outputs_only(database: Database) -> None:
    svc = service(database, prediction_log={"inputs": "off", "feedback_wait_s": 0})
    # (outputs are scrubbed like inputs; numbers and labels come through unchanged)
    await log(svc, entry("r", [{"label": "a"}], inputs=[{"secret": 1}]))
    got = await svc.predictions.get("r")
    rows = await svc.predictions.rows("r")
    assert got is not None and got.inputs == [None] and got.outputs == [{"label": "a"}]
    assert rows[0].mode == "scrubbed" and not rows[0].input_logged


async def test_purge_deletes_old_predictions(database: Database) -> None:
    svc = service(database)
    old = (datetime.now(UTC) - timedelta(days=40)).timestamp()
    await log(svc, entry("old", [1.0], at=old), entry("new", [2.0]))
    assert await svc.predictions.purge(datetime.now(UTC) - timedelta(days=30)) == 1
    assert await svc.predictions.get("old") is None and await svc.predictions.get("new")


def test_sealer_modes() -> None:
    keys = _encryptor()
    sealer = Sealer(lambda: keys)
    blob, mode = sealer.seal({"a": 1}, b"aad", clear=True)
    assert mode == "encrypted" and sealer.open(blob, mode, b"aad") == {"a": 1}
    assert Sealer(lambda: keys, lambda v: "x").seal({"a": 1}, b"", clear=False) == (
        b'"x"',
        "scrubbed",
    )
    assert Sealer().seal({"a": 1}, b"", clear=False)[1] == "omitted"
    assert Sealer().seal({"a": 1}, b"", clear=True)[1] == "omitted"  # never stored in clear


def test_what_is_read_from_items_and_outputs() -> None:
    assert features_of({"a": 1, "b": "x", "c": [1], "d": None}) == (
        {"a": 1, "b": "x", "d": None},
        None,
    )
    assert features_of([1.0, 2.0], ["u", "v"]) == ({"u": 1.0, "v": 2.0}, None)
    assert features_of([1.0, 2.0]) == ({"f0": 1.0, "f1": 2.0}, None)
    assert features_of("hello") == ({"text_length": 5}, "hello")
    chat = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    assert features_of(chat) == ({"text_length": 2}, "hi")
    assert features_of(42) == ({}, None)
    assert outcome_of({"label": "spam", "probability": 0.9}) == ("spam", None)
    assert outcome_of({"value": 2.5}) == (None, 2.5)
    assert outcome_of(3) == (None, 3.0)
    assert outcome_of("ham") == ("ham", None)
    assert outcome_of(True) == ("true", None)
    assert outcome_of([0.1, 0.2]) == (None, None)
    assert outcome_of({"label": "x" * 300}) == (None, None)


async def test_writer_batches_flushes_and_drops_when_full() -> None:
    batches: list[list[int]] = []
    gate = asyncio.Event()

    async def handle(batch: list[int]) -> None:
        await gate.wait()
        batches.append(batch)

    dropped: list[int] = []
    writer: BackgroundWriter[int] = BackgroundWriter(
        handle, queue_size=3, batch_size=10, on_drop=lambda: dropped.append(1)
    )
    assert not writer.offer(0)  # not started: dropped, never blocks
    writer.start()
    assert writer.offer(1)
    await asyncio.sleep(0)  # the writer takes item 1 and waits on the gate
    assert all(writer.offer(i) for i in (2, 3, 4))
    assert not writer.offer(5)  # the queue holds 3: full
    assert writer.dropped == 2 and len(dropped) == 2
    gate.set()
    await writer.flush()
    assert batches == [[1], [2, 3, 4]] and writer.pending == 0
    await writer.aclose()


async def test_writer_survives_a_failed_batch() -> None:
    seen: list[Any] = []

    async def handle(batch: list[int]) -> None:
        if 1 in batch:
            raise RuntimeError("database down")
        seen.extend(batch)

    writer: BackgroundWriter[int] = BackgroundWriter(handle, queue_size=10, batch_size=1)
    writer.start()
    writer.offer(1)
    writer.offer(2)
    await writer.flush()
    assert seen == [2] and writer.failed == 1
    await writer.aclose()


def test_an_object_of_scalars_is_read_whole_and_anything_else_field_by_field() -> None:
    import numpy as np

    row = {"a": 1, "b": 2.5, "c": "x", "d": None, "e": True}
    got, _ = features_of(row)
    assert got == row and got is not row  # a copy, every field
    odd = {"a": np.float64(1.5), 2: 3, "c": [1], "d": np.int64(4)}
    # a float subclass counts, a key becomes text, a list and a numpy int are left out
    assert features_of(odd) == ({"a": 1.5, "2": 3}, None)
