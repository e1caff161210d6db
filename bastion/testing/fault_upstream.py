"""A real OpenAI-protocol HTTP server with deterministic answers that can be told to fail."""

from __future__ import annotations

import asyncio
import base64
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from aiohttp import web

from bastion.testing.faults import (
    Fault,
    FaultBook,
    Reply,
    error_body,
    openai_error,
    pseudo_embedding,
    trailing_prefill,
    word_count,
)

_JSON = "application/json"
_SSE_HEADERS = (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"))
_DONE = b"data: [DONE]\n\n"
_MALFORMED = b"data: {not json\n\n"
_STATUS_FAULTS = frozenset(
    {"rate_limit", "error_once", "error", "unavailable", "flap", "context_length", "content_policy"}
)


class _BadRequest(Exception):
    """The request itself is unusable (bad JSON, no model); answered 400 in OpenAI's shape."""


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(payload), status=status, headers=headers, content_type=_JSON
    )


class FaultUpstream:
    """The fault upstream: ``await start()`` → base URL, ``set_fault(model, fault, **params)``."""

    def __init__(
        self,
        *,
        models: Sequence[str] = ("fake-chat", "fake-embed"),
        embedding_dim: int = 16,
        reply_prefix: str = "Bastion fault upstream says:",
        api_key: str | None = None,
    ) -> None:
        self.faults = FaultBook()
        self.models = tuple(models)
        self.embedding_dim = embedding_dim
        self.reply_prefix = reply_prefix.split()
        self._api_key = api_key
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self.base_url = ""

    def set_fault(self, model: str, fault: str, **params: Any) -> None:
        self.faults.set(model, fault, **params)

    def clear(self, model: str | None = None) -> None:
        self.faults.clear(model)

    def stats(self) -> dict[str, Any]:
        return self.faults.stats()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._completions)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/_control/faults", self._control_set)
        app.router.add_get("/_control/faults", self._control_list)
        app.router.add_delete("/_control/faults", self._control_clear)
        app.router.add_get("/_control/stats", self._control_stats)
        app.router.add_delete("/_control/stats", self._control_reset_stats)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._closing = asyncio.Event()
        runner = web.AppRunner(
            self.app(), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound = runner.addresses[0]
        self.base_url = f"http://{bound[0]}:{bound[1]}/v1"
        return self.base_url

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def run(self, host: str = "127.0.0.1", port: int = 9100) -> None:
        """Serve until interrupted (the CLI entry); uses uvloop when it is installed."""
        factory: Callable[[], asyncio.AbstractEventLoop] = asyncio.new_event_loop
        try:
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:  # pragma: no cover - uvloop comes with uvicorn[standard]
            pass
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(self._serve_forever(host, port))

    async def _serve_forever(self, host: str, port: int) -> None:
        await self.start(host, port)
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- the OpenAI API ------------------------------------------------------------------

    async def _read(self, request: web.Request) -> tuple[dict[str, Any], str, Fault | None]:
        key = self._api_key
        if key is not None and request.headers.get("Authorization") != f"Bearer {key}":
            raise _BadRequest("invalid_api_key")
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            raise _BadRequest("We could not parse the JSON body of your request.") from None
        model = body.get("model") if isinstance(body, dict) else None
        if not isinstance(model, str) or not model:
            raise _BadRequest("you must provide a model parameter")
        return body, model, self.faults.take(model, stream=bool(body.get("stream")))

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, chat=True)

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, chat=False)

    async def _serve(self, request: web.Request, *, chat: bool) -> web.StreamResponse:
        try:
            body, model, fault = await self._read(request)
        except _BadRequest as exc:
            return _bad_request(str(exc))
        stream = bool(body.get("stream"))
        if fault is not None:
            early = await self._before_answer(request, fault, stream=stream)
            if early is not None:
                return early
            if fault.kind == "refuse_prefill" and chat and trailing_prefill(body) is not None:
                message = "The last message must be a user or tool message (injected)."
                return _json(openai_error(message, type_="invalid_request_error"), 400)
        if fault is not None and fault.kind == "ignore_prefill" and trailing_prefill(body):
            body = {**body, "messages": body["messages"][:-1]}
        prefix = self.reply_prefix
        if fault is not None and fault.kind == "different_answer":
            prefix = ["Quite", "another", "answer:"]
        reply = Reply.build(
            body,
            model,
            f"{'chatcmpl' if chat else 'cmpl'}-{next(self._ids)}",
            prefix,
            chat=chat,
            confidence=fault.confidence if fault is not None else 0.99,
        )
        if stream:
            options = body.get("stream_options") or {}
            events = reply.events(include_usage=bool(options.get("include_usage")))
            return await self._stream(request, events, fault)
        payload = orjson.dumps(reply.payload())
        if fault is not None and fault.kind == "cut_stream":
            return _CutResponse(request, payload)
        return web.Response(body=payload, content_type=_JSON)

    async def _before_answer(
        self, request: web.Request, fault: Fault, *, stream: bool
    ) -> web.StreamResponse | None:
        """Apply a fault that acts before any answer; None means: go on and answer."""
        kind = fault.kind
        if kind in _STATUS_FAULTS:
            status, payload = error_body(fault)
            headers = None
            if fault.retry_after is not None:
                headers = {"Retry-After": f"{fault.retry_after:g}"}
            return _json(payload, status, headers)
        if kind == "reset":
            return await self._abort(request)
        if kind == "hang" or (kind == "silent" and not stream):
            await self._closing.wait()
            return await self._abort(request)
        if kind == "slow" or (kind == "delay_first_token" and not stream):
            await asyncio.sleep(fault.seconds)
        return None

    async def _abort(self, request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError  # nothing can be sent; let aiohttp drop the handler

    async def _stream(
        self, request: web.Request, events: list[bytes], fault: Fault | None
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers=_SSE_HEADERS)
        kind = fault.kind if fault is not None else ""
        if kind == "omit_done":
            response.force_close()  # before the headers, so the client sees Connection: close
        await response.prepare(request)
        if kind == "silent":
            await self._closing.wait()
            return await self._abort(request)
        if fault is not None and kind == "delay_first_token":
            await asyncio.sleep(fault.seconds)
        breaks_at = fault.after if fault is not None and kind != "omit_done" else -1
        for index, event in enumerate([*events, b""]):
            if index == min(breaks_at, len(events)):
                if kind == "cut_stream":
                    return await self._abort(request)
                if kind == "stall_stream":
                    await self._closing.wait()
                    return await self._abort(request)
                if kind == "malformed_chunk":
                    await response.write(_MALFORMED)
            if event:
                await response.write(event)
        if kind != "omit_done":
            await response.write(_DONE)
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        try:
            body, model, fault = await self._read(request)
        except _BadRequest as exc:
            return _bad_request(str(exc))
        if fault is not None:
            early = await self._before_answer(request, fault, stream=False)
            if early is not None:
                return early
        raw = body.get("input", "")
        if not isinstance(raw, str | list):
            return _bad_request("input must be a string, a list of strings or of token lists")
        inputs = [raw] if isinstance(raw, str) or (raw and isinstance(raw[0], int)) else raw
        texts = [item if isinstance(item, str) else " ".join(map(str, item)) for item in inputs]
        dimensions = int(body.get("dimensions") or self.embedding_dim)
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for index, text in enumerate(texts):
            vector = pseudo_embedding(text, dimensions)
            embedding: Any = (
                base64.b64encode(vector.tobytes()).decode() if as_base64 else vector.tolist()
            )
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = word_count(texts)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return _json({"object": "list", "data": data, "model": model, "usage": usage})

    async def _models(self, request: web.Request) -> web.Response:
        names = dict.fromkeys([*self.models, *self.stats()["models"]])
        data = [{"id": n, "object": "model", "created": 0, "owned_by": "bastion"} for n in names]
        return _json({"object": "list", "data": data})

    # -- the control API -----------------------------------------------------------------

    async def _control_set(self, request: web.Request) -> web.Response:
        try:
            params = orjson.loads(await request.read())
            model, kind = params.pop("model"), params.pop("fault")
            fault = self.faults.set(str(model), str(kind), **params)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
            return _json({"error": f"bad fault: {exc}"}, 400)
        return _json({"ok": True, "model": model, "fault": fault.kind, "times": fault.times})

    async def _control_list(self, request: web.Request) -> web.Response:
        return _json(self.faults.faults())

    async def _control_clear(self, request: web.Request) -> web.Response:
        self.faults.clear(request.query.get("model"))
        return _json({"ok": True})

    async def _control_stats(self, request: web.Request) -> web.Response:
        return _json(self.stats())

    async def _control_reset_stats(self, request: web.Request) -> web.Response:
        self.faults.reset_stats()
        return _json({"ok": True})


class _CutResponse(web.Response):
    """A response whose connection is aborted half way through the body."""

    def __init__(self, request: web.Request, body: bytes) -> None:
        super().__init__(body=body, content_type=_JSON)
        self._victim = request

    async def write_eof(self, data: bytes = b"") -> None:
        body = self.body if isinstance(self.body, bytes) else b""
        await self.write(body[: len(body) // 2])
        if self._victim.transport is not None:
            self._victim.transport.abort()


def _bad_request(message: str) -> web.Response:
    status = 401 if message == "invalid_api_key" else 400
    return _json(openai_error(message, type_="invalid_request_error", code=None), status)


@contextmanager
def running_upstream(
    upstream: FaultUpstream | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[FaultUpstream]:
    """Run a fault upstream on its own loop in a background thread (for sync clients)."""
    server = upstream or FaultUpstream()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fault-upstream", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(server.start(host, port), loop).result(timeout=10)
        yield server
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
