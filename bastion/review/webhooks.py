"""Decision webhooks: generic JSON POSTs, signed when a secret is set, retried with backoff."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
import structlog

log = structlog.get_logger(__name__)

Outcome = Callable[[str, dict[str, Any]], Awaitable[None]]
_MAX_BACKOFF_S = 30.0

if TYPE_CHECKING:
    import httpx


class WebhookSender:
    """Delivers in the background so that a reviewer never waits on a slow receiver.

    Each delivery makes up to ``attempts`` tries, backing off exponentially from
    ``backoff_s``; a 2xx ends it, as does a 4xx other than 408/429 (the receiver refuses it).
    At most ``max_pending`` deliveries run at once; beyond that new ones are dropped and
    logged. ``on_outcome(key, details)`` is told how each delivery ended.
    """

    def __init__(
        self,
        *,
        attempts: int = 5,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        max_pending: int = 1000,
        secret: str | None = None,
        on_outcome: Outcome | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._max_pending = max_pending
        self._secret = secret.encode() if secret else None
        self._on_outcome = on_outcome
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[bool]] = set()

    def send(self, url: str, event: str, body: dict[str, Any], *, key: str) -> bool:
        """Schedule one delivery; False if too many are already in flight (it is dropped)."""
        if len(self._pending) >= self._max_pending:
            log.warning("webhook_dropped", key=key, pending=len(self._pending))
            return False
        task = asyncio.get_running_loop().create_task(self.deliver(url, event, body, key=key))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    def _headers(self, event: str, raw: bytes) -> dict[str, str]:
        headers = {
            "content-type": "application/json",
            "user-agent": "bastion-review-webhook",
            "x-bastion-event": event,
            "x-bastion-delivery": secrets.token_hex(12),
        }
        if self._secret is not None:
            digest = hmac.new(self._secret, raw, hashlib.sha256).hexdigest()
            headers["x-bastion-signature"] = f"sha256={digest}"
        return headers

    async def deliver(self, url: str, event: str, body: dict[str, Any], *, key: str) -> bool:
        """Try until delivered, refused or out of attempts; True if the receiver took it."""
        raw = orjson.dumps(body)
        headers = self._headers(event, raw)  # one delivery id across retries: dedupe on it
        import httpx  # here: a server without review webhooks never loads it

        status: int | None = None
        error = ""
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._http().post(url, content=raw, headers=headers)
                status, error = response.status_code, ""
            except httpx.HTTPError as exc:
                status, error = None, type(exc).__name__
            if status is not None and 200 <= status < 300:
                await self._report(key, True, attempt, status, "")
                return True
            if status is not None and 400 <= status < 500 and status not in (408, 429):
                break
            if attempt < self._attempts:
                await self._sleep(min(_MAX_BACKOFF_S, self._backoff_s * 2 ** (attempt - 1)))
        log.warning("webhook_failed", key=key, status=status, error=error)
        await self._report(key, False, attempt, status, error)
        return False

    async def _report(
        self, key: str, ok: bool, attempts: int, status: int | None, error: str
    ) -> None:
        if self._on_outcome is not None:
            details = {"delivered": ok, "attempts": attempts, "status": status, "error": error}
            await self._on_outcome(key, details)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        return self._client

    async def drain(self, timeout_s: float) -> None:
        """Let deliveries in flight finish for up to ``timeout_s``, then cancel the rest."""
        if self._pending:
            _, late = await asyncio.wait(set(self._pending), timeout=timeout_s)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)

    async def aclose(self, timeout_s: float = 5.0) -> None:
        await self.drain(timeout_s)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
