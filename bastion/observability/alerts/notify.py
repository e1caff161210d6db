"""Notifications: the log, and webhooks (generic JSON or Slack) delivered in the background."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import orjson
import structlog

from bastion.observability.alerts.history import Alert
from bastion.observability.alerts.payloads import json_payload, slack_payload
from bastion.settings.alerts import SEVERITY_RANK, WebhookSettings

if TYPE_CHECKING:
    import httpx

log = structlog.get_logger(__name__)

Status = Literal["firing", "resolved"]
_MAX_BACKOFF_S = 30.0


@dataclass(frozen=True, slots=True)
class Notification:
    status: Status
    alert: Alert


def redact_url(url: str) -> str:
    """Scheme, host and port only: webhook paths and queries often carry tokens."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


class Notifier:
    """Logs every notification and posts it to each webhook whose ``min_severity`` it meets.

    Deliveries run as background tasks, so nothing that fires an alert waits on a receiver.
    Each makes up to ``attempts`` tries with exponential backoff from ``backoff_s``, each
    try bounded by ``timeout_s``; a 2xx ends it, and so does a 4xx other than 408/429 (the
    receiver refuses the body; retrying cannot help). At most ``max_pending`` deliveries are
    in flight; beyond that new ones are dropped and logged.
    """

    def __init__(
        self,
        webhooks: Sequence[WebhookSettings] = (),
        *,
        attempts: int = 5,
        backoff_s: float = 0.5,
        timeout_s: float = 5.0,
        max_pending: int = 1000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._webhooks = list(webhooks)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._timeout_s = timeout_s
        self._max_pending = max_pending
        self._sleep = sleep
        self._client: httpx.AsyncClient | None = None
        self._pending: set[asyncio.Task[bool]] = set()

    @property
    def webhooks(self) -> list[WebhookSettings]:
        return list(self._webhooks)

    def notify(self, note: Notification) -> None:
        """Log ``note`` and schedule its webhook deliveries; returns at once."""
        alert = note.alert
        fields = {
            "alert_id": alert.id,
            "rule": alert.rule,
            "kind": alert.kind,
            "deployment": alert.deployment,
            "severity": alert.severity,
            "summary": alert.summary,
            "dedupe_key": alert.dedupe_key,
        }
        if note.status == "firing":
            log.warning("alert_fired", **fields)
        else:
            log.info("alert_resolved", **fields)
        for hook in self._webhooks:
            if SEVERITY_RANK.get(alert.severity, 0) >= SEVERITY_RANK[hook.min_severity]:
                self._schedule(hook, note)

    def _schedule(self, hook: WebhookSettings, note: Notification) -> None:
        if len(self._pending) >= self._max_pending:
            log.warning(
                "alert_webhook_dropped",
                webhook=hook.name,
                alert_id=note.alert.id,
                pending=len(self._pending),
            )
            return
        task = asyncio.get_running_loop().create_task(self.deliver(hook, note))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def body(self, hook: WebhookSettings, note: Notification) -> dict[str, Any]:
        if hook.format == "slack":
            return slack_payload(note.status, note.alert)
        return json_payload(note.status, note.alert)

    async def deliver(self, hook: WebhookSettings, note: Notification) -> bool:
        """Post one notification until delivered, refused or out of attempts."""
        import httpx

        raw = orjson.dumps(self.body(hook, note))
        headers = _headers(hook, note, raw)  # one delivery id across retries: dedupe on it
        url = hook.url.get_secret_value()
        status: int | None = None
        error = ""
        attempt = 0
        for attempt in range(1, self._attempts + 1):
            try:
                response = await self._http().post(url, content=raw, headers=headers)
                status, error = response.status_code, ""
            except httpx.HTTPError as exc:
                status, error = None, type(exc).__name__
            if status is not None and 200 <= status < 300:
                log.debug("alert_webhook_delivered", webhook=hook.name, attempts=attempt)
                return True
            if status is not None and 400 <= status < 500 and status not in (408, 429):
                break
            if attempt < self._attempts:
                await self._sleep(min(_MAX_BACKOFF_S, self._backoff_s * 2 ** (attempt - 1)))
        log.warning(
            "alert_webhook_failed",
            webhook=hook.name,
            url=redact_url(url),
            status=status,
            error=error,
            attempts=attempt,
            alert_id=note.alert.id,
        )
        return False

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


def _headers(hook: WebhookSettings, note: Notification, raw: bytes) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "user-agent": "bastion-alerts",
        "x-bastion-event": f"alert.{note.status}",
        "x-bastion-delivery": secrets.token_hex(12),
    }
    if hook.secret is not None:
        key = hook.secret.get_secret_value().encode()
        headers["x-bastion-signature"] = "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
    return headers
