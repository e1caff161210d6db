"""Response caching: exact-match, in-memory (one node) or Redis (a cluster)."""

from bastion.caching.base import ResponseCache
from bastion.caching.keys import cache_key, is_deterministic
from bastion.caching.memory import MemoryCache
from bastion.caching.redis_cache import RedisCache
from bastion.caching.stage import CacheStage

__all__ = [
    "CacheStage",
    "MemoryCache",
    "RedisCache",
    "ResponseCache",
    "cache_key",
    "is_deterministic",
]
