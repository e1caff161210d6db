"""A GCRA limiter shared by every replica: one atomic Lua script per check, on Redis time."""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from bastion.governance.ratelimit.base import Check, Decision, Quota
from bastion.governance.ratelimit.gcra import Plan
from bastion.governance.redis_lua import LuaScript, map_redis_errors

# Values are "int:rem:den" = int + rem/den microseconds on Redis' clock (TIME), so replicas
# with skewed clocks agree. ARGV holds 5 numbers per key: den, inc (int, rem), cap (int, rem).
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function rel_of(key, den)
  local v = redis.call('GET', key)
  if not v then return 0, 0 end
  local i, r, d = string.match(v, '^(-?%d+):(%d+):(%d+)$')
  i, r = tonumber(i) - now, tonumber(r)
  if tonumber(d) ~= den then r = 0 end
  if i < 0 then return 0, 0 end
  return i, r
end
local function store(key, i, r, den)
  if r >= den then i, r = i + 1, r - den end
  if i < 0 or (i == 0 and r == 0) then
    redis.call('DEL', key)
  else
    local v = string.format('%d:%d:%d', now + i, r, den)
    redis.call('SET', key, v, 'PX', math.floor(i / 1000) + 1)
  end
end
"""

_CHECK_ALL = (
    _PRELUDE
    + """
local out, ok = {0}, true
for k = 1, #KEYS do
  local b = (k - 1) * 5
  local den = tonumber(ARGV[b + 1])
  local ri, rr = rel_of(KEYS[k], den)
  local xi = ri + tonumber(ARGV[b + 2]) - tonumber(ARGV[b + 4])
  local xr = rr + tonumber(ARGV[b + 3]) - tonumber(ARGV[b + 5])
  if xr >= den then xi, xr = xi + 1, xr - den elseif xr < 0 then xi, xr = xi - 1, xr + den end
  if xi > 0 or (xi == 0 and xr > 0) then ok = false end
  out[2 * k], out[2 * k + 1] = ri, rr
end
if ok then
  out[1] = 1
  for k = 1, #KEYS do
    local b = (k - 1) * 5
    local den = tonumber(ARGV[b + 1])
    store(KEYS[k], out[2 * k] + tonumber(ARGV[b + 2]), out[2 * k + 1] + tonumber(ARGV[b + 3]), den)
  end
end
return out
"""
)

_SETTLE = (
    _PRELUDE
    + """
for k = 1, #KEYS do
  local b = (k - 1) * 5
  local den = tonumber(ARGV[b + 1])
  local ri, rr = rel_of(KEYS[k], den)
  store(KEYS[k], ri + tonumber(ARGV[b + 2]), rr + tonumber(ARGV[b + 3]), den)
end
return 1
"""
)


class RedisLimiter:
    """Exact GCRA across replicas: a check of several keys is one atomic script call."""

    __slots__ = ("_check_all", "_redis", "_settle", "prefix", "quota")

    def __init__(
        self, redis: Redis, quota: Quota | None = None, *, prefix: str = "bastion:rl:"
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
        plans = [Plan.of(c) for c in checks]
        if not all(p.possible for p in plans):  # refused without asking: nothing is charged
            return [p.decide(0, charged=False) for p in plans]
        with map_redis_errors("the rate-limit store"):
            out = await self._check_all(self._redis, self._keys(checks), _args(plans))
        ok = int(out[0]) == 1
        rels = [int(out[2 * i + 1]) * p.den + int(out[2 * i + 2]) for i, p in enumerate(plans)]
        return [p.decide(r, charged=ok) for p, r in zip(plans, rels, strict=True)]

    async def settle(self, checks: Sequence[Check]) -> None:
        if not checks:
            return
        plans = [Plan.of(c) for c in checks]
        with map_redis_errors("the rate-limit store"):
            await self._settle(self._redis, self._keys(checks), _args(plans))

    def _keys(self, checks: Sequence[Check]) -> list[str]:
        return [self.prefix + c.key for c in checks]


def _args(plans: Sequence[Plan]) -> list[int]:
    args: list[int] = []
    for p in plans:
        args += [p.den, *divmod(p.inc, p.den), *divmod(p.cap, p.den)]
    return args
