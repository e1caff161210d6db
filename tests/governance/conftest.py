"""Governance fixtures: a fake clock, and a Redis client with a unique key prefix per test.

Redis is at ``BASTION_TEST_REDIS_URL`` (default redis://127.0.0.1:6379/0). When it is
unreachable the Redis cases skip, or fail if ``BASTION_REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from bastion.core.clock import FakeClock
from bastion.governance.redis_lua import make_redis_client
from tests.support import service_unavailable

REDIS_URL = os.environ.get("BASTION_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def prefix() -> str:
    return f"bastion-test:{secrets.token_hex(6)}:"


def redis_unavailable(reason: str) -> None:
    service_unavailable(reason)


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    """A client on the test Redis; every key under ``prefix`` is deleted afterwards."""
    client = make_redis_client(REDIS_URL, max_connections=32, timeout_s=5.0, wait_s=10.0)
    try:
        await client.ping()
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        await client.aclose()
        redis_unavailable(f"Redis is not reachable at {REDIS_URL}: {exc}")
    yield client
    async for key in client.scan_iter(match=prefix + "*", count=500):
        await client.delete(key)
    await client.aclose()
