"""The cache stage: answer repeated deterministic requests without calling the model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bastion.backends.base import Prediction
from bastion.backends.sse import encode_event
from bastion.caching.base import ResponseCache
from bastion.caching.keys import cache_key, is_deterministic
from bastion.caching.semantic import SemanticIndex, question_and_scope
from bastion.pipeline.call import CacheOutcome, Result
from bastion.settings.llm import CacheSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import numpy as np

    from bastion.pipeline import Call, Next


class CacheStage:
    """Exact-match (and optional semantic) cache for LLM groups, after routing.

    ``mode``: ``deterministic`` caches temperature-0 requests, ``always`` caches every
    request (an explicit opt-in), ``off`` never. With ``semantic_threshold`` set, a miss looks
    for an earlier question in the same tenant/group/version/context whose embedding is at
    least that similar. A streamed request can be served from the cache (replayed); streamed
    answers are not stored. Hits carry ``x-bastion-cache: hit|semantic-hit`` and
    ``call.cache``. The tenant is part of every key: entries never cross tenants.
    """

    def __init__(
        self,
        cache: ResponseCache,
        policies: dict[str, CacheSettings],
        semantic: SemanticIndex | None = None,
    ) -> None:
        self._cache = cache
        self._policies = policies
        self._semantic = semantic

    def _policy(self, call: Call) -> CacheSettings | None:
        if call.llm is None:
            return None
        policy = self._policies.get(call.deployment)
        if policy is None or policy.mode == "off":
            return None
        body = call.inputs[0]
        deterministic = isinstance(body, dict) and is_deterministic(body)
        if policy.mode == "deterministic" and not deterministic:
            return None
        return policy

    async def __call__(self, call: Call, next: Next) -> Result:
        policy = self._policy(call)
        if policy is None:
            return await next(call)
        assert call.llm is not None  # _policy answers None for calls to no LLM group
        tenant = call.tenant or "default"
        kind = call.llm.kind
        key = cache_key(tenant, call.deployment, call.version or 0, kind, call.inputs[0])
        cached = await self._cache.get(key)
        if cached is not None:
            return self._hit(call, cached, "hit")
        near = await self._near(call, tenant, policy)
        if near is not None and near[2] is not None:
            cached = await self._cache.get(near[2])
            if cached is not None:
                return self._hit(call, cached, "semantic-hit")
        call.cache = "miss"
        result = await next(call)
        storable = result.stream is None and result.predictions
        if storable and "x-bastion-fallback" not in result.headers:
            await self._cache.set(key, orjson.dumps(result.predictions[0].output), policy.ttl_s)
            if near is not None and self._semantic is not None:
                self._semantic.add(near[1], key, near[0])
        return result

    def _hit(self, call: Call, cached: bytes, kind: CacheOutcome) -> Result:
        call.cache, call.cost_usd = kind, 0.0
        response: dict[str, Any] = orjson.loads(cached)
        stream = _replay(response) if call.stream else None
        model = str(response.get("model", call.deployment))
        return Result(
            call.deployment,
            model,
            call.version or 0,
            [Prediction(response)],
            headers={"x-bastion-cache": kind},
            stream=stream,
        )

    async def _near(
        self, call: Call, tenant: str, policy: CacheSettings
    ) -> tuple[np.ndarray, str, str | None] | None:
        """(question vector, scope, key of a similar cached question) for the semantic cache."""
        if self._semantic is None or policy.semantic_threshold is None:
            return None
        body = call.inputs[0]
        found = question_and_scope(body) if isinstance(body, dict) else None
        if found is None:
            return None
        question, context = found
        scope = f"{tenant}|{call.deployment}|{call.version}|{context}"
        vector = await self._semantic.vector(question)
        return vector, scope, self._semantic.nearest(scope, vector, policy.semantic_threshold)


async def _replay(response: dict[str, Any]) -> AsyncIterator[bytes]:
    """A cached chat completion as a stream: the whole message, then the finish (the adapter
    sends the stream's end)."""
    base = {
        "id": response.get("id", "cached"),
        "object": "chat.completion.chunk",
        "created": response.get("created", 0),
        "model": response.get("model"),
    }
    for choice in response.get("choices") or []:
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        delta = {"role": "assistant", "content": message.get("content", "")}
        first = {**base, "choices": [{"index": index, "delta": delta, "finish_reason": None}]}
        yield encode_event(first)
        finish = choice.get("finish_reason", "stop")
        last = {**base, "choices": [{"index": index, "delta": {}, "finish_reason": finish}]}
        yield encode_event(last)
