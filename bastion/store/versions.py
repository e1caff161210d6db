"""Allocating the next version number of a named thing (a model, an eval set) under races."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from bastion.errors import Conflict

T = TypeVar("T")
ATTEMPTS = 8


async def insert_next_version(insert: Callable[[], Awaitable[T]], what: str) -> T:
    """Run ``insert`` (read the newest version, insert the next, commit) until no concurrent
    writer took the same number first: its unique key then raises IntegrityError, and the
    insert is tried again after a short jittered wait. Conflict after ``ATTEMPTS`` tries."""
    for attempt in range(ATTEMPTS):
        try:
            return await insert()
        except IntegrityError:
            await asyncio.sleep(random.uniform(0.005, 0.02) * (attempt + 1))
    raise Conflict(
        f"could not allocate a version for {what}: too many concurrent registrations; try again"
    )
