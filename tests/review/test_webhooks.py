"""Decision webhooks against a local receiver: retries with backoff, signatures, refusals."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from aiohttp import web

from bastion.review.webhooks import WebhookSender


class Receiver:
    """A webhook endpoint on 127.0.0.1 that answers the statuses it is given, then 200."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.seen: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((dict(request.headers), await request.read()))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hook = Receiver([])
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield hook, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


async def test_retries_with_backoff_until_delivered_and_signs_the_body(
    receiver: tuple[Receiver, str],
) -> None:
    hook, url = receiver
    hook.statuses = [503, 500]
    naps: list[float] = []
    outcomes: list[tuple[str, dict[str, Any]]] = []

    async def nap(seconds: float) -> None:
        naps.append(seconds)

    async def outcome(key: str, details: dict[str, Any]) -> None:
        outcomes.append((key, details))

    sender = WebhookSender(
        attempts=5, backoff_s=0.5, secret="s3cret", on_outcome=outcome, sleep=nap
    )
    ok = await sender.deliver(url, "review.corrected", {"review_id": "rev_1"}, key="rev_1")
    await sender.aclose()
    assert ok and naps == [0.5, 1.0]
    assert outcomes == [("rev_1", {"delivered": True, "attempts": 3, "status": 200, "error": ""})]
    headers, body = hook.seen[-1]
    assert orjson.loads(body) == {"review_id": "rev_1"}
    assert headers["x-bastion-event"] == "review.corrected"
    digest = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-bastion-signature"] == f"sha256={digest}"
    assert len({h["x-bastion-delivery"] for h, _ in hook.seen}) == 1  # one id across retries


async def test_gives_up_after_its_attempts_and_on_a_refusal(
    receiver: tuple[Receiver, str],
) -> None:
    hook, url = receiver

    async def nap(seconds: float) -> None:
        return None

    sender = WebhookSender(attempts=3, sleep=nap)
    hook.statuses = [500, 500, 500]
    assert await sender.deliver(url, "e", {}, key="k") is False
    assert len(hook.seen) == 3
    hook.statuses = [410]
    assert await sender.deliver(url, "e", {}, key="k") is False
    assert len(hook.seen) == 4  # a 4xx is the receiver's final word: no retry
    assert await sender.deliver("http://127.0.0.1:9/nothing", "e", {}, key="k") is False
    await sender.aclose()


async def test_background_sends_are_bounded(receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    sender = WebhookSender(max_pending=1)
    assert sender.send(url, "e", {}, key="a") is True
    assert sender.send(url, "e", {}, key="b") is False
    await sender.aclose()
