"""Cache keys: the tenant, the served name, the version and the normalised request."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

# Fields that change how an answer is delivered or attributed, not what it says.
_IGNORED = frozenset({"stream", "stream_options", "user", "metadata", "store", "service_tier"})


def is_deterministic(body: dict[str, Any]) -> bool:
    """Only temperature 0 (or a greedy top_p of 0) gives the same answer twice."""
    return body.get("temperature") == 0 or body.get("top_p") == 0


def cache_key(tenant: str, deployment: str, version: int, kind: str, body: Any) -> str:
    """A stable digest; tenants never share entries because the tenant is part of the key."""
    if isinstance(body, dict):
        body = {k: v for k, v in body.items() if k not in _IGNORED}
    payload = orjson.dumps([tenant, deployment, version, kind, body], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(payload).hexdigest()
