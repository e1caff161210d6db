"""Bearer keys → principals: caching, one lookup per key under concurrency, clear 401s."""

from __future__ import annotations

import asyncio

import pytest

from bastion.errors import Unauthorized
from bastion.security import Authenticator
from bastion.security.keys import ApiKey


class CountingKeys:
    def __init__(self, keys: dict[str, ApiKey]) -> None:
        self.keys = keys
        self.lookups = 0

    async def find(self, plaintext: str) -> ApiKey | None:
        self.lookups += 1
        await asyncio.sleep(0.01)
        return self.keys.get(plaintext)


def _key(revoked: bool = False) -> ApiKey:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return ApiKey(
        "key_1",
        "bst_abcdef",
        "app",
        "default",
        ("client",),
        None,
        now,
        None,
        now if revoked else None,
    )


async def test_concurrent_requests_share_one_lookup() -> None:
    keys = CountingKeys({"good": _key()})
    auth = Authenticator(keys)  # type: ignore[arg-type]
    principals = await asyncio.gather(*(auth.authenticate("Bearer good") for _ in range(50)))
    assert {p.key_id for p in principals} == {"key_1"}
    assert keys.lookups == 1


async def test_cache_expires_and_revocation_is_seen() -> None:
    now = [0.0]
    keys = CountingKeys({"good": _key()})
    auth = Authenticator(keys, clock=lambda: now[0])  # type: ignore[arg-type]
    await auth.authenticate("Bearer good")
    await auth.authenticate("Bearer good")
    assert keys.lookups == 1
    keys.keys["good"] = _key(revoked=True)
    now[0] = 6.0
    with pytest.raises(Unauthorized, match="revoked"):
        await auth.authenticate("Bearer good")


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "Bearer " + "x" * 300])
async def test_missing_and_malformed(header: str | None) -> None:
    auth = Authenticator(CountingKeys({}))  # type: ignore[arg-type]
    with pytest.raises(Unauthorized):
        await auth.authenticate(header)


async def test_unknown_key_is_cached_negative() -> None:
    keys = CountingKeys({})
    auth = Authenticator(keys)  # type: ignore[arg-type]
    for _ in range(3):
        with pytest.raises(Unauthorized):
            await auth.authenticate("Bearer nope")
    assert keys.lookups == 1
