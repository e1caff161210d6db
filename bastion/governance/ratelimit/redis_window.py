"""Sliding windows shared by every replica: one atomic Lua script per call, on Redis time.

Per key: a sorted set of charges (score = time in µs from Redis ``TIME``, so replicas with
skewed clocks agree; member = ``time:seq:units``) and a hash holding their sum (``used``)
and a sequence that keeps members unique. Expired charges are removed as they are met, so a
check costs O(expired + log n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from redis.asyncio import Redis

from bastion.governance.ratelimit.base import Check, Decision, Quota
from bastion.governance.redis_lua import LuaScript, map_redis_errors

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function units(member) return tonumber(string.match(member, ':(%d+)$')) end
local function expire(z, m, period)
  local used = tonumber(redis.call('HGET', m, 'used') or '0')
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', now - period)
  if #old > 0 then
    for _, member in ipairs(old) do used = used - units(member) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now - period)
    redis.call('HSET', m, 'used', used)
  end
  return used
end
local function add(z, m, units_, period)
  local seq = redis.call('HINCRBY', m, 'seq', 1)
  redis.call('ZADD', z, now, string.format('%d:%d:%d', now, seq, units_))
  local used = redis.call('HINCRBY', m, 'used', units_)
  local ttl = math.floor(period / 1000) + 1
  redis.call('PEXPIRE', z, ttl)
  redis.call('PEXPIRE', m, ttl)
  return used
end
"""

# ARGV: limit, period µs, cost per check; KEYS: the set and the hash of each check.
# Returns {admitted, then per check: used, µs until empty, µs until its cost would fit}.
_CHECK_ALL = (
    _PRELUDE
    + """
local n, used, ok = #ARGV / 3, {}, true
for k = 1, n do
  used[k] = expire(KEYS[2 * k - 1], KEYS[2 * k], tonumber(ARGV[3 * k - 1]))
  if used[k] + tonumber(ARGV[3 * k]) > tonumber(ARGV[3 * k - 2]) then ok = false end
end
local out = {ok and 1 or 0}
for k = 1, n do
  local z, m = KEYS[2 * k - 1], KEYS[2 * k]
  local limit, period, cost = tonumber(ARGV[3 * k - 2]), tonumber(ARGV[3 * k - 1]),
    tonumber(ARGV[3 * k])
  if ok and cost > 0 then used[k] = add(z, m, cost, period) end
  local reset, retry = 0, 0
  local newest = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if #newest > 0 then reset = tonumber(newest[2]) + period - now end
  if not ok and cost <= limit and used[k] + cost > limit then
    local need, freed = used[k] + cost - limit, 0
    local all = redis.call('ZRANGE', z, 0, -1, 'WITHSCORES')
    for i = 1, #all, 2 do
      freed = freed + units(all[i])
      if freed >= need then retry = tonumber(all[i + 1]) + period - now; break end
    end
  end
  out[3 * k - 1], out[3 * k], out[3 * k + 1] = used[k], reset, retry
end
return out
"""
)

# Charge (cost > 0) or refund from the newest charges (cost < 0), unconditionally.
_SETTLE = (
    _PRELUDE
    + """
for k = 1, #ARGV / 3 do
  local z, m = KEYS[2 * k - 1], KEYS[2 * k]
  local period, cost = tonumber(ARGV[3 * k - 1]), tonumber(ARGV[3 * k])
  expire(z, m, period)
  if cost > 0 then
    add(z, m, cost, period)
  elseif cost < 0 then
    local owed = -cost
    local newest = redis.call('ZREVRANGE', z, 0, -1, 'WITHSCORES')
    for i = 1, #newest, 2 do
      if owed <= 0 then break end
      local member, at = newest[i], newest[i + 1]
      local have = units(member)
      local taken = math.min(owed, have)
      redis.call('ZREM', z, member)
      if have > taken then
        local seq = redis.call('HINCRBY', m, 'seq', 1)
        redis.call('ZADD', z, at, string.format('%d:%d:%d', tonumber(at), seq, have - taken))
      end
      redis.call('HINCRBY', m, 'used', -taken)
      owed = owed - taken
    end
  end
end
return 1
"""
)


class RedisWindowLimiter:
    """Exact sliding windows across replicas: a check of several keys is one script call."""

    __slots__ = ("_check_all", "_redis", "_settle", "prefix", "quota")

    def __init__(
        self, redis: Redis, quota: Quota | None = None, *, prefix: str = "bastion:rlw:"
    ) -> None:
        self.quota = quota
        self.prefix = prefix
        self._redis = redis
        self._check_all = LuaScript(_CHECK_ALL)
        self._settle = LuaScript(_SETTLE)

    async def check(self, key: str, cost: int = 1) -> Decision:
        if self.quota is None:
            raise ValueError("this limiter has no default quota; use check_all")
        return (await self.check_all([Check(key, self.quota, cost)]))[0]

    async def check_all(self, checks: Sequence[Check]) -> list[Decision]:
        if not checks:
            return []
        if any(c.cost > c.quota.limit for c in checks):  # refused without asking
            return [_impossible(c) for c in checks]
        with map_redis_errors("the rate-limit store"):
            out = await self._check_all(self._redis, self._keys(checks), _args(checks))
        ok = int(out[0]) == 1
        decisions = []
        for i, c in enumerate(checks):
            used, reset_us, retry_us = (int(x) for x in out[1 + 3 * i : 4 + 3 * i])
            decisions.append(
                Decision(
                    allowed=ok,
                    remaining=max(c.quota.limit - used, 0),
                    reset_after_s=max(reset_us, 0) / 1e6,
                    retry_after_s=max(retry_us, 0) / 1e6,
                    limit=c.quota.limit,
                )
            )
        return decisions

    async def settle(self, checks: Sequence[Check]) -> None:
        if not checks:
            return
        with map_redis_errors("the rate-limit store"):
            await self._settle(self._redis, self._keys(checks), _args(checks))

    def _keys(self, checks: Sequence[Check]) -> list[str]:
        keys = []
        for c in checks:
            keys += [f"{self.prefix}{c.key}:z", f"{self.prefix}{c.key}:m"]
        return keys


def _args(checks: Sequence[Check]) -> list[int]:
    args: list[int] = []
    for c in checks:
        args += [c.quota.limit, max(round(c.quota.period_s * 1_000_000), 1), c.cost]
    return args


def _impossible(check: Check) -> Decision:
    """A cost above the limit: no wait will ever make it fit."""
    over = check.cost > check.quota.limit
    return Decision(False, 0, 0.0, math.inf if over else 0.0, check.quota.limit)
