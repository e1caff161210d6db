"""The ResponseCache seam: get/set of serialised answers by key, with a time to live."""

from __future__ import annotations

from typing import Protocol


class ResponseCache(Protocol):
    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def aclose(self) -> None: ...
