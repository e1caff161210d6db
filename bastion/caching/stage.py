"""The cache stage: answer repeated deterministic requests without calling the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bastion.backends.base import Prediction
from bastion.caching.base import ResponseCache
from bastion.caching.keys import cache_key, is_deterministic
from bastion.pipeline.call import Result
from bastion.settings.llm import CacheSettings

if TYPE_CHECKING:
    from bastion.pipeline import Call, Next


class CacheStage:
    """Exact-match cache for LLM groups, after routing so that the key has the version.

    ``mode``: ``deterministic`` caches temperature-0 requests, ``always`` caches every
    request (an explicit opt-in), ``off`` never. A streamed request can be served from the
    cache (replayed as one chunk); streamed answers are not stored. Hits carry
    ``x-bastion-cache: hit`` and ``call.annotations["cache"] = "hit"``.
    """

    def __init__(self, cache: ResponseCache, policies: dict[str, CacheSettings]) -> None:
        self._cache = cache
        self._policies = policies

    def _policy(self, call: Call) -> CacheSettings | None:
        if not call.api.startswith("openai."):
            return None
        policy = self._policies.get(call.deployment)
        if policy is None or policy.mode == "off":
            return None
        body = call.inputs[0]
        if policy.mode == "deterministic" and not (
            isinstance(body, dict) and is_deterministic(body)
        ):
            return None
        return policy

    async def __call__(self, call: Call, next: Next) -> Result:
        policy = self._policy(call)
        if policy is None:
            return await next(call)
        tenant = getattr(call.principal, "tenant", "default")
        kind = str(call.annotations.get("llm_kind", call.api))
        key = cache_key(tenant, call.deployment, call.version or 0, kind, call.inputs[0])
        cached = await self._cache.get(key)
        if cached is not None:
            call.annotations.update(cache="hit", cost_usd=0.0)
            response: dict[str, Any] = orjson.loads(cached)
            stream = _replay(response) if call.stream else None
            return Result(
                call.deployment,
                str(response.get("model", call.deployment)),
                call.version or 0,
                [Prediction(response)],
                headers={"x-bastion-cache": "hit"},
                stream=stream,
            )
        call.annotations["cache"] = "miss"
        result = await next(call)
        if (
            result.stream is None
            and result.predictions
            and "x-bastion-fallback" not in result.headers
        ):
            await self._cache.set(key, orjson.dumps(result.predictions[0].output), policy.ttl_s)
        return result


async def _replay(response: dict[str, Any]):  # type: ignore[no-untyped-def]
    """A cached chat completion as an SSE stream: the whole message, the finish, usage, DONE."""
    base = {
        "id": response.get("id", "cached"),
        "object": "chat.completion.chunk",
        "created": response.get("created", 0),
        "model": response.get("model"),
    }
    for choice in response.get("choices") or []:
        message = choice.get("message") or {}
        delta = {"role": "assistant", "content": message.get("content", "")}
        yield (
            b"data: "
            + orjson.dumps(
                {
                    **base,
                    "choices": [
                        {"index": choice.get("index", 0), "delta": delta, "finish_reason": None}
                    ],
                }
            )
            + b"\n\n"
        )
        yield (
            b"data: "
            + orjson.dumps(
                {
                    **base,
                    "choices": [
                        {
                            "index": choice.get("index", 0),
                            "delta": {},
                            "finish_reason": choice.get("finish_reason", "stop"),
                        }
                    ],
                }
            )
            + b"\n\n"
        )
    yield b"data: [DONE]\n\n"
