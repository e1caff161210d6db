"""HTTP and webhook destinations: one aiohttp session per destination, verdicts by status.

2xx is delivered; 409 and 412 are conflicts (optimistic concurrency with If-Match); 408,
429 and 5xx are retried (honouring Retry-After); any other 4xx is permanent; connection
errors and timeouts are retried. Every attempt carries ``Idempotency-Key`` (decision id +
step); a webhook destination also signs the body (``bastion.actions.signing``).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from bastion.actions import signing
from bastion.actions.base import Outcome
from bastion.actions.compiled import CompiledCall
from bastion.actions.credentials import auth_header, resolve
from bastion.settings.actions import DestinationSettings

_RETRY = frozenset({408, 425, 429})
_CONFLICT = frozenset({409, 412})


class HttpDestination:
    def __init__(self, name: str, settings: DestinationSettings) -> None:
        self.name = name
        self.settings = settings
        where = f"actions.destinations.{name}"
        self._base = (settings.url or "").rstrip("/")
        self._headers = {
            "content-type": "application/json",
            "user-agent": "bastion-actions",
            **settings.headers,
            **auth_header(settings.credential, f"{where}.credential"),
        }
        self._secret = (
            resolve(settings.signing_secret, f"{where}.signing_secret")
            if settings.signing_secret is not None
            else None
        )
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self.settings.max_concurrency)
            timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
            self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)

    async def send(
        self, call: CompiledCall, ctx: Mapping[str, Any], key: str, *, reread: bool = False
    ) -> Outcome:
        await self.start()
        assert self._session is not None
        url = self._base + str(call.path(ctx) or "")
        body = orjson.dumps(call.body(ctx), option=orjson.OPT_NON_STR_KEYS)
        headers = {**self._headers, **_strings(call.headers(ctx)), "idempotency-key": key}
        if call.if_match is not None:
            headers["if-match"] = str(call.if_match(ctx))
        try:
            if reread and call.if_match is not None:
                etag = await self._etag(url)
                if etag is not None:
                    headers["if-match"] = etag
            if self._secret is not None:
                headers.update(signing.sign(self._secret.get_secret_value(), body, key))
            async with self._session.request(
                call.settings.method, url, data=body, headers=headers
            ) as response:
                text = await response.text(errors="replace") if response.status >= 300 else ""
                return _verdict(response.status, response.headers, text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Outcome("retry", error=f"{type(exc).__name__}: {str(exc)[:200]}")

    async def post_raw(self, path: str, body: bytes, key: str, content_type: str) -> Outcome:
        """POST bytes as they are (a CloudEvent), signed when this is a webhook."""
        await self.start()
        assert self._session is not None
        headers = {**self._headers, "content-type": content_type, "idempotency-key": key}
        if self._secret is not None:
            headers.update(signing.sign(self._secret.get_secret_value(), body, key))
        try:
            async with self._session.post(self._base + path, data=body, headers=headers) as r:
                text = await r.text(errors="replace") if r.status >= 300 else ""
                return _verdict(r.status, r.headers, text)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Outcome("retry", error=f"{type(exc).__name__}: {str(exc)[:200]}")

    async def _etag(self, url: str) -> str | None:
        """Re-read the target's current version (its ETag) before retrying a conflict."""
        assert self._session is not None
        async with self._session.get(url, headers=self._headers) as response:
            return response.headers.get("etag")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _verdict(status: int, headers: Mapping[str, str], text: str) -> Outcome:
    if 200 <= status < 300:
        return Outcome("ok", status)
    error = f"HTTP {status}: {text[:200]}" if text else f"HTTP {status}"
    if status in _CONFLICT:
        return Outcome(
            "conflict", status, error=error, details={"status": status, "body": text[:500]}
        )
    if status in _RETRY or status >= 500:
        return Outcome(
            "retry", status, retry_after=retry_after(headers.get("retry-after")), error=error
        )
    return Outcome("permanent", status, error=error)


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date), None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _strings(headers: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (headers or {}).items()}
