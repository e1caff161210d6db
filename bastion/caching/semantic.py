"""Semantic cache index: the nearest earlier question, within a scope, above a similarity."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import orjson

Embed = Callable[[Sequence[str]], Any]  # texts → L2-normalised float32 rows


def question_and_scope(body: dict[str, Any]) -> tuple[str, str] | None:
    """The last user message, and a digest of everything else that shapes the answer.

    Two requests may share an answer only when the system prompt, earlier turns and sampling
    parameters are identical and the last questions are close; the scope digest holds the rest.
    """
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, dict) or last.get("role") != "user":
        return None
    content = last.get("content")
    if not isinstance(content, str) or not content.strip():
        return None
    rest = {
        k: v for k, v in body.items() if k not in ("messages", "stream", "stream_options", "user")
    }
    digest = hashlib.sha256(
        orjson.dumps([messages[:-1], rest], option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    return content, digest


class SemanticIndex:
    """Bounded per scope (oldest entries evicted) and per process; embeddings run in a thread."""

    def __init__(self, embed: Embed, *, max_per_scope: int = 1000, max_scopes: int = 1000) -> None:
        self._embed = embed
        self._max_per_scope = max_per_scope
        self._max_scopes = max_scopes
        self._scopes: OrderedDict[str, tuple[list[str], list[np.ndarray]]] = OrderedDict()

    async def vector(self, text: str) -> np.ndarray:
        rows = await asyncio.to_thread(self._embed, [text])
        vector: np.ndarray = np.asarray(rows, dtype=np.float32)[0]
        return vector

    def nearest(self, scope: str, vector: np.ndarray, threshold: float) -> str | None:
        entry = self._scopes.get(scope)
        if entry is None or not entry[0]:
            return None
        keys, vectors = entry
        sims = np.stack(vectors) @ vector
        best = int(np.argmax(sims))
        return keys[best] if float(sims[best]) >= threshold else None

    def add(self, scope: str, key: str, vector: np.ndarray) -> None:
        keys, vectors = self._scopes.setdefault(scope, ([], []))
        self._scopes.move_to_end(scope)
        keys.append(key)
        vectors.append(vector)
        if len(keys) > self._max_per_scope:
            del keys[0], vectors[0]
        while len(self._scopes) > self._max_scopes:
            self._scopes.popitem(last=False)
