"""Response caching: exact-match, in-memory (one node) or Redis (a cluster).

``RedisCache`` is imported from ``bastion.caching.redis_cache``: the redis client loads only
where it is used."""

from bastion.caching.base import ResponseCache
from bastion.caching.keys import cache_key, is_deterministic
from bastion.caching.memory import MemoryCache
from bastion.caching.stage import CacheStage

__all__ = [
    "CacheStage",
    "MemoryCache",
    "ResponseCache",
    "cache_key",
    "is_deterministic",
]
