"""Events out: CloudEvents to real NATS JetStream (stream created, acks, duplicates dropped by
message id) and to signed webhooks; and the nats destination of an action."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from bastion.actions.destinations import build_destination
from bastion.actions.events import EventBus
from bastion.actions.outbox import OutboxStore
from bastion.actions.signing import WebhookVerifier
from bastion.settings.actions import ActionsSettings
from bastion.store import Database
from tests.actions.conftest import NATS_URL
from tests.actions.helpers import close, dispatcher, drain, intents, settings
from tests.actions.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.close()


async def _messages(js: Any, stream: str, subject: str, n: int) -> list[Any]:
    sub = await js.pull_subscribe(subject, stream=stream)
    got: list[Any] = []
    try:
        while len(got) < n:
            got += await sub.fetch(n - len(got), timeout=3)
    except Exception:
        pass
    for m in got:
        await m.ack()
    return got


async def test_events_reach_jetstream_once_per_id_and_a_signed_webhook(
    nats_js: Any, unique: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVT_SECRET", "s3cret")
    cfg = ActionsSettings.model_validate(
        {
            "destinations": {
                "bus": {
                    "kind": "nats",
                    "url": NATS_URL,
                    "stream": unique,
                    "subjects": [f"{unique}.>"],
                },
                "hook": {
                    "kind": "webhook",
                    "url": receiver.url,
                    "signing_secret": {"env": "EVT_SECRET"},
                },
            },
            "events": [
                {"destination": "bus", "subject_prefix": unique, "types": ["decision", "alias"]},
                {"destination": "hook", "path": "/events", "types": ["decision"]},
            ],
        }
    )
    dests = {k: build_destination(k, d) for k, d in cfg.destinations.items()}
    bus = EventBus([(s, dests[s.destination]) for s in cfg.events])
    bus.start()
    bus.emit("decision", {"output": {"label": "a"}}, subject="r1:0", event_id="decision-r1:0")
    bus.emit("decision", {"output": {"label": "a"}}, subject="r1:0", event_id="decision-r1:0")
    bus.emit("alias", {"model": "m", "version": 2}, event_id="alias-7")
    bus.emit("review", {"ignored": True})  # no sink takes reviews
    await bus.flush()
    await bus.aclose()
    info = await nats_js.stream_info(unique)  # created because it was absent
    assert info.state.messages == 2  # the repeated id was dropped by JetStream
    got = await _messages(nats_js, unique, f"{unique}.>", 2)
    events = [orjson.loads(m.data) for m in got]
    assert [e["type"] for e in events] == ["io.bastion.decision", "io.bastion.alias"]
    assert events[0]["specversion"] == "1.0" and events[0]["id"] == "decision-r1:0"
    assert got[0].headers["Nats-Msg-Id"] == "decision-r1:0"
    # the webhook got both copies of the decision, each signed, one id: the receiver dedupes
    verifier = WebhookVerifier("s3cret")
    assert len(receiver.headers) == 2 and len(receiver.accepted) == 1
    for headers, body in zip(receiver.headers, receiver.bodies, strict=True):
        lowered = {k.lower(): v for k, v in headers.items()}
        assert lowered["content-type"] == "application/cloudevents+json"
        assert verifier.verify(body, lowered) == "decision-r1:0"
    for d in dests.values():
        await d.aclose()


async def test_a_nats_action_publishes_once_per_idempotency_key(
    nats_js: Any, unique: str, database: Database
) -> None:
    dest = {"bus": {"kind": "nats", "url": NATS_URL, "stream": unique, "subjects": [f"{unique}.>"]}}
    step = {
        "name": "emit",
        "destination": "bus",
        "subject": unique + ".refunds",
        "body": {"n": "{{ input.n }}"},
    }
    store = OutboxStore(database)
    cfg = settings(dest, [{"name": "notify", "steps": [step]}])
    await store.insert(intents(5))
    d = dispatcher(store, cfg)
    rows = await drain(d, store)
    assert {r.status for r in rows} == {"done"}
    # a redelivery of the same action (e.g. after a crash before its state was written)
    again = await d.destinations["bus"].send(
        d.catalog.find("demo", "notify").steps[0].call,  # type: ignore[union-attr]
        {"input": {"n": 0}},
        "req-0:0:notify:emit",
    )
    assert again.ok and again.details["duplicate"] is True
    await close(d)
    info = await nats_js.stream_info(unique)
    assert info.state.messages == 5
