"""Redis plumbing shared by limiters and budgets: cached Lua scripts and error mapping."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bastion.errors import Overloaded
from bastion.governance.outage import StoreUnavailable


@contextmanager
def map_redis_errors(what: str) -> Iterator[None]:
    """Turn Redis connectivity failures into ``StoreUnavailable``; other errors are bugs."""
    try:
        yield
    except redis_errors.MaxConnectionsError as exc:  # our pool is exhausted, Redis is fine
        raise Overloaded(f"too many requests waiting on {what}", retry_after=1.0) from exc
    except (
        redis_errors.ConnectionError,
        redis_errors.TimeoutError,
        redis_errors.BusyLoadingError,
        redis_errors.ReadOnlyError,
        OSError,
    ) as exc:
        raise StoreUnavailable(
            f"{what} is unavailable; try again shortly", retry_after=1.0
        ) from exc


def make_redis_client(
    url: str, *, max_connections: int = 64, timeout_s: float = 0.5, wait_s: float = 1.0
) -> Redis:
    """A client fit for the hot path: a bounded pool that waits ``wait_s`` for a connection,
    short socket timeouts and no retries (a retried script could charge twice, and an outage
    should reach the fallback at once rather than after redis-py's backoff)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=wait_s,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis(connection_pool=pool)


class LuaScript:
    """A Lua script run with ``EVALSHA``, loaded with ``SCRIPT LOAD`` on ``NOSCRIPT``."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()

    async def __call__(self, redis: Redis, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except redis_errors.NoScriptError:
            # A restarted or failed-over Redis has forgotten the script: load it once more.
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
