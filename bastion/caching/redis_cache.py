"""Redis-backed response cache shared by every replica (values expire with the TTL)."""

from __future__ import annotations

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger(__name__)


class RedisCache:
    """A cache miss, never an error, when Redis is unreachable: the request goes upstream."""

    def __init__(self, url: str, prefix: str = "bastion:cache:") -> None:
        self._redis: Redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(self._prefix + key)
        except (RedisError, OSError) as exc:
            log.warning("cache_unavailable", op="get", error=str(exc))
            return None
        return value if isinstance(value, bytes) else None

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        try:
            await self._redis.set(self._prefix + key, value, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            log.warning("cache_unavailable", op="set", error=str(exc))

    async def aclose(self) -> None:
        await self._redis.aclose()
