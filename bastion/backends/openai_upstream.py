"""The client for an OpenAI-compatible upstream: timeouts, streaming and one error mapping."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol

import aiohttp
import orjson
import structlog

from bastion.backends.http1 import Http1Client, encode_headers
from bastion.backends.http1_errors import (
    ConnectFailed,
    ConnectTimeout,
    Http1Error,
    PayloadError,
    ReadTimeout,
    ServerDisconnected,
)
from bastion.backends.http1_response import Http1Response
from bastion.backends.sse import SSEParser
from bastion.errors import (
    BastionError,
    ContentPolicyViolation,
    ContextLengthExceeded,
    InvalidRequest,
    MalformedUpstreamResponse,
    PayloadTooLarge,
    RateLimited,
    StreamTruncated,
    Timeout,
    UpstreamError,
    UpstreamUnavailable,
)
from bastion.observability.tracing import upstream_call

log = structlog.get_logger(__name__)


class SupportsRemaining(Protocol):
    """A deadline (``bastion.resilience.Deadline`` fits): seconds left, never negative."""

    def remaining(self) -> float: ...


@dataclass(frozen=True, slots=True)
class UpstreamTimeouts:
    """Seconds allowed to connect, to a stream's first chunk, between chunks, to a whole
    non-streamed answer (``answer``; None: ``first_token``), and in all.

    ``after_finish`` is how long to wait for ``[DONE]`` (or a usage chunk) once a
    ``finish_reason`` has arrived; an upstream that omits ``[DONE]`` costs no more than that.
    A timeout before anything arrived carries ``details["silent"]``: the upstream accepted the
    call and sent nothing, so the gateway does not try it again for that request.
    """

    connect: float = 2.0
    first_token: float = 10.0
    idle: float = 10.0
    total: float = 600.0
    after_finish: float = 1.0
    answer: float | None = None


def create_session(*, limit: int = 100, keepalive_s: float = 30.0) -> Http1Client:
    """The one pooled client an upstream's owner creates (inside the running loop) and closes.

    The lean HTTP/1.1 client (``http1``), not aiohttp: measured, it costs a fraction of the
    CPU per call on this path (bench/RESULTS.md, issue 20; docs/architecture.md).
    """
    return Http1Client(limit=limit, keepalive_s=keepalive_s)


@dataclass(slots=True)
class _Progress:
    forwarded: bool = False  # a chunk went to the caller: retrying would duplicate output


def _retry_after(headers: Mapping[str, str]) -> float | None:
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def error_from_status(
    status: int, body: bytes, headers: Mapping[str, str], *, upstream: str, secret: str = ""
) -> BastionError:
    """Turn an upstream error answer (OpenAI's ``{"error": {...}}`` shape) into a Bastion error."""
    message, code = f"upstream answered {status}", ""
    try:
        error = orjson.loads(body).get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or message)
            code = str(error.get("code") or error.get("type") or "")
    except (orjson.JSONDecodeError, AttributeError):
        pass
    if secret:
        message = message.replace(secret, "***")
    message = message[:500]
    details: dict[str, Any] = {"upstream": upstream, "upstream_status": status, "code": code}
    retry_after = _retry_after(headers)
    if status == 429:
        return RateLimited(message, retry_after=retry_after, details=details)
    if status == 408:
        return Timeout(message, details=details)
    if code == "context_length_exceeded":
        return ContextLengthExceeded(message, details=details)
    if code in {"content_policy_violation", "content_filter"}:
        return ContentPolicyViolation(message, details=details)
    if status in {401, 403, 404}:  # our key or our model name is wrong: not the client's fault
        return UpstreamError(f"upstream refused the call ({status}): {message}", details=details)
    if status == 413:
        return PayloadTooLarge(message, details=details)
    if status < 500:
        return InvalidRequest(message, details=details)
    if status in {502, 503, 504}:
        return UpstreamUnavailable(message, retry_after=retry_after, details=details)
    return UpstreamError(message, retry_after=retry_after, details=details)


class map_upstream_errors:  # noqa: N801 - used as a function: ``with map_upstream_errors(…):``
    """The one place where HTTP client (``http1``, aiohttp), OS and JSON failures become
    Bastion errors.

    Every error leaving the block carries ``details["upstream"]`` and ``details["forwarded"]``
    (whether part of a stream already went to the caller, so a retry is no longer safe).
    A plain class, not a ``@contextmanager`` generator: it is entered on every upstream call.
    """

    __slots__ = ("_progress", "_upstream")

    def __init__(self, *, upstream: str, progress: _Progress | None = None) -> None:
        self._upstream = upstream
        self._progress = progress

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, Exception):
            return  # no error, or a cancellation or exit: not ours to map
        progress = self._progress
        forwarded = bool(progress and progress.forwarded)
        if isinstance(exc, BastionError):
            exc.details.update(upstream=self._upstream, forwarded=forwarded)
            return  # it propagates as it is
        mapped = _mapped(exc, self._upstream, {"upstream": self._upstream, "forwarded": forwarded})
        if mapped is not exc:
            raise mapped from exc


def _mapped(exc: Exception, upstream: str, extra: dict[str, Any]) -> Exception:
    """The Bastion error for a foreign one (most specific first), or ``exc`` if it is a bug."""
    name = type(exc).__name__
    if isinstance(exc, Http1Error):
        return _mapped_http1(exc, upstream, extra)
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return Timeout(f"connecting to {upstream} timed out", details=extra)
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return Timeout(f"{upstream} sent nothing in time", details={**extra, "silent": True})
    if isinstance(exc, TimeoutError):
        return Timeout(f"{upstream} did not answer within the deadline", details=extra)
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ServerDisconnectedError):
        return UpstreamUnavailable(f"{upstream} is unreachable: {name}", details=extra)
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientOSError | ConnectionError):
        return UpstreamUnavailable(f"connection to {upstream} broke: {name}", details=extra)
    if isinstance(exc, orjson.JSONDecodeError | UnicodeDecodeError):
        return MalformedUpstreamResponse(f"{upstream} sent malformed JSON", details=extra)
    if isinstance(exc, aiohttp.ClientError | OSError):
        return UpstreamUnavailable(f"calling {upstream} failed: {name}", details=extra)
    return exc


def _mapped_http1(exc: Http1Error, upstream: str, extra: dict[str, Any]) -> Exception:
    """The same Bastion errors as aiohttp's equivalents had (a bad status line included)."""
    name = type(exc).__name__
    if isinstance(exc, ConnectTimeout):
        return Timeout(f"connecting to {upstream} timed out", details=extra)
    if isinstance(exc, ReadTimeout):
        return Timeout(f"{upstream} sent nothing in time", details={**extra, "silent": True})
    if isinstance(exc, ConnectFailed | ServerDisconnected):
        return UpstreamUnavailable(f"{upstream} is unreachable: {name}", details=extra)
    if isinstance(exc, PayloadError):
        return UpstreamUnavailable(f"connection to {upstream} broke: {name}", details=extra)
    return UpstreamUnavailable(f"calling {upstream} failed: {name}", details=extra)


def _has_finish_reason(chunk: dict[str, Any]) -> bool:
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        return False
    return any(isinstance(c, dict) and c.get("finish_reason") for c in choices)


class OpenAIUpstream:
    """One OpenAI-compatible upstream serving ``model``, over a client owned by the caller."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        session: Http1Client,
        timeouts: UpstreamTimeouts | None = None,
        model: str,
        name: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = name or f"{self.base_url}#{model}"
        self.timeouts = timeouts or UpstreamTimeouts()
        self._endpoint = session.endpoint(self.base_url)
        self._secret = api_key
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._head = encode_headers(self._headers)
        t = self.timeouts
        self._answer = t.first_token if t.answer is None else t.answer  # between reads
        self._span_attributes = {"bastion.upstream": self.name, "gen_ai.request.model": model}

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAIUpstream({self.base_url!r}, model={self.model!r})"

    def chat(
        self, body: Mapping[str, Any], deadline: SupportsRemaining | None
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._post("/chat/completions", body, deadline)

    def completions(
        self, body: Mapping[str, Any], deadline: SupportsRemaining | None
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._post("/completions", body, deadline)

    def embeddings(
        self, body: Mapping[str, Any], deadline: SupportsRemaining | None
    ) -> Coroutine[Any, Any, dict[str, Any]]:
        return self._post("/embeddings", body, deadline)

    def _budget(self, deadline: SupportsRemaining | None) -> float:
        budget = self.timeouts.total
        if deadline is not None:
            budget = min(budget, deadline.remaining())
        if budget <= 0:
            raise Timeout(f"no time left to call {self.name}", details={"forwarded": False})
        return budget

    async def _post(
        self, path: str, body: Mapping[str, Any], deadline: SupportsRemaining | None
    ) -> dict[str, Any]:
        request = {**body, "model": self.model}
        request.pop("stream", None)
        request.pop("stream_options", None)
        payload = orjson.dumps(request)
        with (
            upstream_call("upstream POST " + path, self._span_attributes) as traced,
            map_upstream_errors(upstream=self.name),
        ):
            head = self._head + encode_headers(traced) if traced else self._head
            async with asyncio.timeout(self._budget(deadline)):
                resp = await self._endpoint.post(
                    path,
                    payload,
                    head,
                    connect_timeout=self.timeouts.connect,
                    read_timeout=self._answer,
                )
                try:
                    raw = await resp.read()
                finally:
                    resp.release()
            if resp.status >= 400:
                raise self._error(resp.status, raw, resp.headers)
            result = orjson.loads(raw)
            if not isinstance(result, dict):
                raise MalformedUpstreamResponse(f"{self.name} answered a non-object")
            return result

    def _error(self, status: int, raw: bytes, headers: Mapping[str, str]) -> BastionError:
        return error_from_status(status, raw, headers, upstream=self.name, secret=self._secret)

    async def stream_chat(
        self, body: Mapping[str, Any], deadline: SupportsRemaining | None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield the parsed chunks of a streamed chat completion, up to ``[DONE]``.

        Raises ``Timeout`` (first token, idle gap or total), ``StreamTruncated`` when the
        stream ends before a ``finish_reason``, ``MalformedUpstreamResponse`` on a bad chunk.
        A stream that has its ``finish_reason`` but no ``[DONE]`` ends normally.
        """
        payload = orjson.dumps({**body, "model": self.model, "stream": True})
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + self._budget(deadline)
        progress = _Progress()
        with map_upstream_errors(upstream=self.name, progress=progress):
            with upstream_call(
                "upstream POST /chat/completions (stream)", self._span_attributes
            ) as traced:
                head = self._head + encode_headers(traced) if traced else self._head
                first_token = self.timeouts.first_token
                silent = first_token <= ends_at - loop.time()
                try:
                    async with asyncio.timeout(min(first_token, ends_at - loop.time())):
                        resp = await self._endpoint.post(
                            "/chat/completions",
                            payload,
                            head,
                            connect_timeout=self.timeouts.connect,
                            read_timeout=None,  # the waits below bound each read
                        )
                        if resp.status >= 400:
                            try:
                                raise self._error(resp.status, await resp.read(), resp.headers)
                            finally:
                                resp.release()
                except TimeoutError:
                    message = f"{self.name} sent nothing within {first_token:g}s (first token)"
                    if not silent:
                        message = f"{self.name} did not answer within the deadline"
                    details = {"phase": "first_token", "silent": silent}
                    raise Timeout(message, details=details) from None
            try:
                async with aclosing(self._chunks(resp, ends_at, progress)) as chunks:
                    async for chunk in chunks:
                        yield chunk
            finally:
                resp.release()

    async def _chunks(
        self, resp: Http1Response, ends_at: float, progress: _Progress
    ) -> AsyncGenerator[dict[str, Any], None]:
        parser, loop = SSEParser(), asyncio.get_running_loop()
        started = finished = False
        while True:
            wait, phase = self._next_wait(started, finished)
            if ends_at - loop.time() <= wait:
                wait, phase = ends_at - loop.time(), "total"
            try:
                async with asyncio.timeout(max(wait, 0.0)):
                    data = await resp.read_chunk()
            except TimeoutError:
                if finished:
                    log.info("upstream_stream_ended_without_done", upstream=self.name)
                    return
                message = f"{self.name} stream timed out ({phase}, {wait:.3g}s)"
                details = {"phase": phase, "silent": phase == "first_token"}
                raise Timeout(message, details=details) from None
            except PayloadError:
                data = b""  # the connection was cut: judged below like an early end
            for event in parser.feed(data) if data else parser.flush():
                if event.data == "[DONE]":
                    return
                chunk = orjson.loads(event.data)
                if not isinstance(chunk, dict):
                    raise MalformedUpstreamResponse(f"{self.name} sent a non-object chunk")
                if "error" in chunk:
                    raise self._error(500, event.data.encode(), {})
                started = True
                finished = finished or _has_finish_reason(chunk)
                progress.forwarded = True
                yield chunk
            if not data:
                if finished:
                    log.info("upstream_stream_ended_without_done", upstream=self.name)
                    return
                raise StreamTruncated(f"{self.name} stream ended before the answer was complete")

    def _next_wait(self, started: bool, finished: bool) -> tuple[float, str]:
        if finished:
            return self.timeouts.after_finish, "after_finish"
        if started:
            return self.timeouts.idle, "idle"
        return self.timeouts.first_token, "first_token"
