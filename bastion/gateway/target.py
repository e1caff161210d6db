"""An LLM route target: a group, its fallback chain, and the static last resort."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bastion.backends.base import Prediction
from bastion.backends.sse import encode_event
from bastion.core.deadline import Deadline
from bastion.errors import BastionError, ContextLengthExceeded, InvalidRequest
from bastion.gateway.completions import confidence
from bastion.gateway.group import Kind, ModelGroup, OpenStream
from bastion.gateway.route import StreamRoute
from bastion.gateway.splice import Splice
from bastion.gateway.streaming import Relayed, Segment, relay, summed_usage
from bastion.gateway.usage import StreamTally, estimate_prompt_tokens
from bastion.pipeline.call import Call, Result
from bastion.resilience import Bulkhead

_CLIENT_FAULTS = (InvalidRequest,)  # never tried elsewhere: another model would refuse it too


@dataclass(slots=True)
class LlmTarget:
    """Runs a chat/completions/embeddings call on ``primary``, then down its fallbacks."""

    primary: ModelGroup
    chain: list[ModelGroup]  # primary first, then its fallbacks in order
    context_fallback: ModelGroup | None
    bulkhead: Bulkhead
    default_deadline_s: float
    version: int = 1

    def check_inputs(self, inputs: list[Any], *, batched: bool) -> None:
        """The body's shape (messages and their roles, …) was checked at the edge by
        ``contracts/openai`` on every path that reaches an LLM group (the OpenAI routes,
        prompt calls through them, batch lines); only ``max_tokens`` is still checked here,
        since the edge does not look at it in an embeddings body."""
        body = inputs[0]
        max_tokens = body.get("max_tokens", body.get("max_completion_tokens"))
        if max_tokens is not None and (
            not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1
        ):
            raise InvalidRequest("max_tokens: a positive integer", details={"field": "max_tokens"})

    def _deadline(self, call: Call) -> Deadline:
        own = Deadline.after(self.default_deadline_s)
        return own.min(call.deadline) if call.deadline is not None else own

    def _route(self, error: BastionError, tried_context: bool) -> ModelGroup | None:
        if isinstance(error, ContextLengthExceeded) and not tried_context:
            return self.context_fallback
        return None

    async def run(self, call: Call) -> Result:
        """Run the call inside the group's bulkhead. A stream keeps its slot until its last
        chunk, so that ``max_concurrency`` bounds live streams, not only their openings."""
        kind: Kind = call.llm.kind if call.llm is not None else "chat"
        body: dict[str, Any] = call.inputs[0]
        deadline = self._deadline(call)
        queued = time.perf_counter()
        if not call.stream:  # the slot for the whole call (no exit stack: the common case)
            async with self.bulkhead.slot(deadline):
                call.queue_s = time.perf_counter() - queued  # for observability
                return await self._complete(call, kind, body, deadline)
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(self.bulkhead.slot(deadline))
            call.queue_s = time.perf_counter() - queued  # for observability
            result = await self._stream(call, body, deadline)
            held = stack.pop_all()  # the slot now belongs to the stream
        assert result.stream is not None
        return dataclasses.replace(result, stream=_held(call, result.stream, held))

    def _groups(self) -> list[ModelGroup]:
        return list(self.chain)

    async def _complete(
        self, call: Call, kind: Kind, body: dict[str, Any], deadline: Deadline
    ) -> Result:
        last: BastionError | None = None
        queue, tried_context = self._groups(), False
        while queue:
            group = queue.pop(0)
            try:
                response, member = await group.complete(kind, body, deadline)
            except _CLIENT_FAULTS as exc:
                nxt = self._route(exc, tried_context)
                if nxt is None:
                    raise
                tried_context, queue = True, [nxt]
                last = exc
                continue
            except BastionError as exc:
                last = exc
                continue
            response["model"] = group.name
            cost = member.cost(response.get("usage"))
            call.usage, call.cost_usd, call.served_by = response.get("usage"), cost, group.name
            return Result(
                call.deployment,
                group.name,
                self.version,
                [Prediction(response, confidence(response), cost=cost)],
                headers=self._headers(group),
            )
        return self._static_or_raise(call, kind, last)

    def _headers(self, group: ModelGroup) -> dict[str, str]:
        if group is self.primary:
            return {}
        return {"x-bastion-fallback": group.name}

    def _static_or_raise(self, call: Call, kind: Kind, last: BastionError | None) -> Result:
        text = self.primary.settings.static_fallback
        if text is None or kind == "embeddings":
            assert last is not None
            raise last
        response = _static_completion(self.primary.name, text, kind)
        call.served_by, call.cost_usd = "static", 0.0
        return Result(
            call.deployment,
            self.primary.name,
            self.version,
            [Prediction(response)],
            headers={"x-bastion-fallback": "static"},
        )

    async def _stream(self, call: Call, body: dict[str, Any], deadline: Deadline) -> Result:
        options = body.get("stream_options") or {}
        include_usage = bool(isinstance(options, dict) and options.get("include_usage"))
        route = StreamRoute(
            self._groups(),
            self.context_fallback,
            {**body, "stream_options": {"include_usage": True}},
            deadline,
            estimate_prompt_tokens(body),
            max_switches=self.primary.policy.max_attempts,
        )
        try:
            group, opened = await route.open()
        except InvalidRequest:
            raise
        except BastionError as last:
            if self.primary.settings.static_fallback is None:
                raise
            return self._static_stream(call, last)
        return self._relay(call, route, group, opened, include_usage)

    def _static_stream(self, call: Call, last: BastionError) -> Result:
        static = self._static_or_raise(call, "chat", last)
        call.delivered = static.predictions[0]
        text = self.primary.settings.static_fallback
        assert text is not None
        return Result(
            static.deployment,
            static.model,
            static.version,
            [],
            headers=static.headers,
            stream=_static_stream(self.primary.name, text),
        )

    def _relay(
        self,
        call: Call,
        route: StreamRoute,
        group: ModelGroup,
        opened: OpenStream,
        include_usage: bool,
    ) -> Result:
        head = opened.first
        created = int(head.get("created") or time.time())
        splice = Splice(str(head.get("id") or "chatcmpl-stream"), created, group.name)
        first = Segment(group, opened, StreamTally(route.prompt_estimate), splice)

        async def resume(broken: Segment, delivered: str, deltas: int) -> Segment | None:
            found = await route.resume(broken.group, delivered, deltas)
            if found is None:
                return None
            nxt_group, nxt = found
            restart = nxt.mode == "restart"
            spliced = Splice(splice.id, created, group.name, nxt.member.name, True)
            spliced.skip, spliced.echo = (delivered, "") if restart else ("", delivered)
            return Segment(nxt_group, nxt, StreamTally(route.prompt_estimate), spliced)

        async def on_end(seen: Relayed, error: BaseException | None) -> None:
            usage, estimated = summed_usage(seen)
            shares = dict(route.hedge_costs)
            for seg in seen.segments:
                name = seg.opened.member.name
                shares[name] = shares.get(name, 0.0) + seg.opened.member.cost(
                    seg.tally.final_usage()
                )
            last = seen.segments[-1].group
            call.usage, call.usage_estimated = usage, estimated
            call.cost_usd, call.served_by = sum(shares.values()), last.name
            call.upstream_costs = shares
            call.continuations = list(seen.switches)
            if last is not group:
                call.stream_fallback = last.name
            answer = seen.answer.completion(group.name, usage)
            call.delivered = Prediction(answer, confidence(answer), cost=call.cost_usd)

        stream = relay(
            first,
            include_usage=include_usage,
            request_id=call.request_id,
            resume=resume,
            on_end=on_end,
        )
        return Result(
            call.deployment,
            group.name,
            self.version,
            [],
            headers=self._headers(group),
            stream=stream,
        )


def _static_completion(model: str, text: str, kind: Kind) -> dict[str, Any]:
    now = int(time.time())
    if kind == "completions":
        return {
            "id": "static",
            "object": "text_completion",
            "created": now,
            "model": model,
            "choices": [{"index": 0, "text": text, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        }
    return {
        "id": "static",
        "object": "chat.completion",
        "created": now,
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


async def _held(
    call: Call, stream: AsyncIterator[bytes], held: contextlib.AsyncExitStack
) -> AsyncIterator[bytes]:
    """``stream``, noting its time to the first chunk, with the bulkhead slot released at its
    end (complete, broken or abandoned by the client)."""
    try:
        async for chunk in stream:
            if call.first_chunk_s is None:
                call.first_chunk_s = time.perf_counter() - call.started_at
            yield chunk
    finally:
        await held.aclose()


async def _static_stream(model: str, text: str) -> AsyncIterator[bytes]:
    base = {
        "id": "static",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
    }
    yield encode_event(
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}
            ],
        }
    )
    yield encode_event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
