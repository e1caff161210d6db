"""Bearer key → Principal, with a short in-memory cache so the hot path skips the database.

With ``security.jwt`` configured, a bearer token shaped like a JWT goes to the JwtVerifier
instead (``jwt_auth.py``); API keys are untouched by it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bastion.core.principal import ANONYMOUS, Principal
from bastion.errors import Unauthorized
from bastion.security.jwt_shape import looks_like_jwt
from bastion.security.keys import KeyStore

if TYPE_CHECKING:  # PyJWT and cryptography load only when security.jwt is configured
    from bastion.security.jwt_auth import JwtVerifier

_CACHE_TTL_S = 5.0  # a revoked key stops working within this many seconds on every replica
_CACHE_MAX = 10_000
_MAX_KEY_CHARS = 256
_MALFORMED = "malformed Authorization header: expected 'Bearer <key>'"


class Authenticator:
    def __init__(
        self,
        keys: KeyStore,
        *,
        require_keys: bool = True,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        jwt: JwtVerifier | None = None,
    ) -> None:
        self._keys = keys
        self._jwt = jwt
        self._max_chars = max(_MAX_KEY_CHARS, jwt.max_token_bytes) if jwt else _MAX_KEY_CHARS
        self._require = require_keys
        self._clock = clock
        self._wall = wall
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._pending: dict[str, asyncio.Future[Principal | None]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            if not self._require:
                return ANONYMOUS
            raise Unauthorized("missing API key: send the header 'Authorization: Bearer <key>'")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > self._max_chars:
            raise Unauthorized(_MALFORMED)
        if self._jwt is not None and looks_like_jwt(token):
            return await self._jwt.verify(token)
        if len(token) > _MAX_KEY_CHARS:
            raise Unauthorized(_MALFORMED)
        hit = self._cache.get(token)
        if hit is None or hit[0] <= self._clock():
            principal = await self._lookup(token)
        else:
            principal = hit[1]
        if principal is None:
            raise Unauthorized("invalid, expired or revoked API key")
        return principal

    async def _lookup(self, token: str) -> Principal | None:
        """One database lookup per key at a time: concurrent requests share it (no stampede)."""
        pending = self._pending.get(token)
        if pending is None:
            pending = asyncio.ensure_future(self._fetch(token))
            self._pending[token] = pending
            pending.add_done_callback(lambda _: self._pending.pop(token, None))
        return await asyncio.shield(pending)

    async def _fetch(self, token: str) -> Principal | None:
        key = await self._keys.find(token)
        now = self._wall()
        principal = key.principal() if key and key.active(now) else None
        ttl = _CACHE_TTL_S
        if principal is not None and key is not None and key.expires_at is not None:
            # An expiring key (e.g. one rotated out) stops working on time, not up to 5 s late.
            expires = key.expires_at
            expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
            ttl = min(ttl, (expires - now).total_seconds())
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[token] = (self._clock() + ttl, principal)
        return principal

    def forget(self) -> None:
        """Drop cached lookups, e.g. right after a revoke in this process."""
        self._cache.clear()

    async def aclose(self) -> None:
        """Stop a JWKS refetch still running (the only background work here)."""
        if self._jwt is not None:
            await self._jwt.aclose()
