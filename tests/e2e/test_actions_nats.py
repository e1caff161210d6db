"""Event-driven inference through a real server: requests on a NATS JetStream subject, results
on a reply subject, and a kill -9 of the consumer in the middle loses nothing."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.actions.conftest import NATS_URL
from tests.e2e.server import make_server
from tests.e2e.test_actions import scorer  # noqa: F401  (the model the server imports)

pytestmark = pytest.mark.e2e
N = 300


async def _js() -> Any:
    import nats

    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:
        import os

        reason = f"NATS is not reachable at {NATS_URL}: {type(exc).__name__}"
        if os.environ.get("BASTION_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return nc, nc.jetstream()


async def _publish(stream: str, subject: str, key: str) -> None:
    nc, js = await _js()
    for i in range(N):
        body = orjson.dumps({"input": {"customer": f"c-{i}", "label": "refund"}})
        headers = {"Nats-Msg-Id": f"q-{i}", "Authorization": f"Bearer {key}"}
        await js.publish(subject, body, stream=stream, headers=headers)
    await nc.close()


async def _results(stream: str, reply: str) -> list[dict[str, Any]]:
    nc, js = await _js()
    sub = await js.subscribe(reply, stream=stream, ordered_consumer=True)
    out = []
    try:
        while True:
            msg = await sub.next_msg(timeout=1.0)
            out.append({"headers": dict(msg.headers or {}), **orjson.loads(msg.data)})
    except Exception:
        pass
    await nc.close()
    return out


def test_requests_on_a_subject_survive_a_kill_of_the_consumer(tmp_path: Path) -> None:
    tag = "t" + secrets.token_hex(4)
    stream, subject, reply = tag, f"{tag}.requests", f"{tag}.results"

    async def create() -> None:
        nc, js = await _js()
        await js.add_stream(name=stream, subjects=[subject, reply])
        await nc.close()

    asyncio.run(create())
    intake = {
        "deployment": "scorer",
        "url": NATS_URL,
        "stream": stream,
        "subject": subject,
        "durable": "bastion",
        "reply_subject": reply,
        "max_in_flight": 16,
        "ack_wait_s": 3,
    }
    path = tmp_path / "bastion.yaml"
    path.write_text(json.dumps({"actions": {"intake": [intake]}}))
    server = make_server(tmp_path / "data", BASTION_DEMO="false", BASTION_CONFIG=str(path))
    server.start()
    try:
        server.cli("models", "register", "scorer", "--entry-point", "tests.e2e.test_actions:scorer")
        server.cli("models", "promote", "scorer", "1")
        deadline = time.monotonic() + 20
        while server.get("/v1/deployments/scorer").json().get("version") != 1:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        asyncio.run(_publish(stream, subject, server.admin_key))
        deadline = time.monotonic() + 60
        while len(asyncio.run(_results(stream, reply))) < N // 5:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.2)
        assert server.proc is not None
        server.proc.send_signal(signal.SIGKILL)  # in the middle: some taken, not all answered
        server.proc.wait(10)
        server.start()
        deadline = time.monotonic() + 120
        while True:
            results = asyncio.run(_results(stream, reply))
            ids = {r["id"] for r in results}
            if ids >= {f"q-{i}" for i in range(N)}:
                break
            assert time.monotonic() < deadline, f"{len(ids)} of {N} results\n{server.log()}"
            time.sleep(0.5)
    finally:
        server.stop()
    assert ids == {f"q-{i}" for i in range(N)}  # every request has its result, nothing else
    for r in results:
        assert r["headers"]["Bastion-Request-Id"] == r["id"]  # a duplicate carries its id
        assert r["output"] == {"label": "refund"} and r["confidence"] == 0.9
