"""The Stage protocol: one step of the request path, shaped like an ASGI middleware."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bastion.pipeline.call import Call, Result

Next = Callable[[Call], Awaitable[Result]]


class Stage(Protocol):
    """Acts before and/or after ``next``; may short-circuit by returning or raising."""

    async def __call__(self, call: Call, next: Next) -> Result: ...
