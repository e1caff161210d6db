"""The Redis response cache against a real Redis; a dead Redis is a miss, never an error."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bastion.caching import MemoryCache
from bastion.caching.redis_cache import RedisCache
from tests.support import service_unavailable

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def redis_cache() -> AsyncIterator[RedisCache]:
    probe = Redis.from_url(URL, socket_connect_timeout=1)
    try:
        await probe.ping()
    except OSError as exc:
        service_unavailable(f"Redis not reachable at 127.0.0.1:6379: {exc}")
    finally:
        await probe.aclose()
    cache = RedisCache(URL, prefix=f"bastion-test:{secrets.token_hex(4)}:")
    yield cache
    await cache.aclose()


async def test_round_trip_and_expiry(redis_cache: RedisCache) -> None:
    await redis_cache.set("k", b"value", ttl_s=60)
    assert await redis_cache.get("k") == b"value"
    assert await redis_cache.get("missing") is None
    await redis_cache.set("short", b"v", ttl_s=0.001)
    import asyncio

    await asyncio.sleep(0.05)
    assert await redis_cache.get("short") is None


async def test_shared_between_two_clients(redis_cache: RedisCache) -> None:
    await redis_cache.set("shared", b"1", ttl_s=60)
    other = RedisCache(URL, prefix=redis_cache._prefix)
    try:
        assert await other.get("shared") == b"1"
    finally:
        await other.aclose()


async def test_unreachable_redis_is_a_miss() -> None:
    dead = RedisCache("redis://127.0.0.1:1/0")
    try:
        assert await dead.get("k") is None
        await dead.set("k", b"v", ttl_s=1)  # logged, not raised
    finally:
        await dead.aclose()


async def test_memory_cache_lru_and_ttl() -> None:
    now = [0.0]
    cache = MemoryCache(max_entries=2, clock=lambda: now[0])
    await cache.set("a", b"1", 10)
    await cache.set("b", b"2", 10)
    assert await cache.get("a") == b"1"  # a is now the most recent
    await cache.set("c", b"3", 10)
    assert await cache.get("b") is None and len(cache) == 2
    now[0] = 11
    assert await cache.get("a") is None
