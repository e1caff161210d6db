"""The budget Lua scripts: atomic check-and-reserve, commit-or-release, and usage."""

from __future__ import annotations

# Per bucket three keys, "h:", "z:" and "r:" + its name: H (hash: s0..s2 spent, r0..r2
# reserved, t:<unit>:<fraction> markers), Z (reservation ids by expiry, ms) and R
# (reservation id -> "m:r:t" amounts; deleted once settled). Units: 0 micro-dollars,
# 1 requests, 2 tokens. Numbers go back to Redis as "%d" strings: a Lua number could
# otherwise be sent as "1e+15".
_PRELUDE = """
local function fmt(n) return string.format('%d', n) end
local function add(h, field, n)
  if n ~= 0 then return redis.call('HINCRBY', h, field, fmt(n)) end
end
local function hold(h, amounts, sign)
  local a, b, c = string.match(amounts, '^(%-?%d+):(%-?%d+):(%-?%d+)$')
  add(h, 'r0', sign * tonumber(a))
  add(h, 'r1', sign * tonumber(b))
  add(h, 'r2', sign * tonumber(c))
end
local function purge(h, z, r, now)
  local ids = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #ids == 0 then return end
  for _, id in ipairs(ids) do
    local v = redis.call('HGET', r, id)
    if v then hold(h, v, -1) end
    redis.call('HDEL', r, id)
  end
  redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
end
local now = tonumber(ARGV[1])
local id = ARGV[2]
local nb = #KEYS / 3
"""

# ARGV: now_ms, id, expires_ms, e0, e1, e2, then per bucket: l0, l1, l2 (-1: none), ttl_s.
RESERVE = (
    _PRELUDE
    + """
local est = {tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
for b = 1, nb do
  local h = KEYS[3 * b - 2]
  purge(h, KEYS[3 * b - 1], KEYS[3 * b], now)
  local v = redis.call('HMGET', h, 's0', 's1', 's2', 'r0', 'r1', 'r2')
  for u = 1, 3 do
    local limit = tonumber(ARGV[6 + 4 * (b - 1) + u])
    if limit >= 0 then
      local used = (tonumber(v[u]) or 0) + (tonumber(v[u + 3]) or 0)
      if used + est[u] > limit or used >= limit then return {0, b, u, used} end
    end
  end
end
local amounts = string.format('%d:%d:%d', est[1], est[2], est[3])
for b = 1, nb do
  local h, z, r = KEYS[3 * b - 2], KEYS[3 * b - 1], KEYS[3 * b]
  hold(h, amounts, 1)
  redis.call('ZADD', z, ARGV[3], id)
  redis.call('HSET', r, id, amounts)
  local ttl = ARGV[6 + 4 * b]
  redis.call('EXPIRE', h, ttl); redis.call('EXPIRE', z, ttl); redis.call('EXPIRE', r, ttl)
end
return {1}
"""
)

# ARGV: now_ms, id, mode ("commit" | "release"), a0, a1, a2, then per bucket: ttl_s and
# its threshold marks "unit:fraction:amount,...". Returns flat (bucket, unit, fraction, spent).
SETTLE = (
    _PRELUDE
    + """
local act = {tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])}
local out = {}
for b = 1, nb do
  local h, z, r = KEYS[3 * b - 2], KEYS[3 * b - 1], KEYS[3 * b]
  purge(h, z, r, now)
  local v = redis.call('HGET', r, id)
  if v then
    hold(h, v, -1)
    redis.call('HDEL', r, id)
    redis.call('ZREM', z, id)
  end
  if ARGV[3] == 'commit' then
    local spent = {}
    for u = 1, 3 do
      local field = 's' .. (u - 1)
      spent[u] = add(h, field, act[u]) or tonumber(redis.call('HGET', h, field) or '0')
    end
    redis.call('EXPIRE', h, ARGV[5 + 2 * b])
    for mark in string.gmatch(ARGV[6 + 2 * b], '[^,]+') do
      local u, f, amount = string.match(mark, '^(%d):([^:]+):(%d+)$')
      local s = spent[tonumber(u) + 1]
      if s >= tonumber(amount) and redis.call('HSETNX', h, 't:' .. u .. ':' .. f, 1) == 1 then
        table.insert(out, b); table.insert(out, tonumber(u)); table.insert(out, f)
        table.insert(out, s)
      end
    end
  end
end
return out
"""
)

# ARGV: now_ms, "" — returns the six counters of each bucket after purging expired holds.
USAGE = (
    _PRELUDE
    + """
local out = {}
for b = 1, nb do
  local h = KEYS[3 * b - 2]
  purge(h, KEYS[3 * b - 1], KEYS[3 * b], now)
  local v = redis.call('HMGET', h, 's0', 's1', 's2', 'r0', 'r1', 'r2')
  for i = 1, 6 do table.insert(out, tonumber(v[i]) or 0) end
end
return out
"""
)
