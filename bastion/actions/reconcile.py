"""Held actions whose review was decided but never released (the process died between the
reviewer's commit and the release): found by a periodic sweep and released then.

The release after a decision is a second transaction, so a crash in between would leave the
decision's actions ``held`` for ever; this sweep closes that gap. It reads review items through
the review service (which opens their sealed results), so it runs only where one exists.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import String, cast, select

from bastion.store import Database
from bastion.store.actions_tables import ActionRow
from bastion.store.review_tables import ReviewItemRow
from bastion.store.tables import utcnow

Release = Callable[[Any, str, Any], Awaitable[None]]
FINAL = ("approved", "corrected", "rejected", "overridden")


async def sweep(db: Database, review: Any, release: Release, *, older_s: float = 30.0) -> int:
    """Release every held action whose review item is decided; returns how many items."""
    held, item = ActionRow, ReviewItemRow
    cutoff = utcnow() - timedelta(seconds=older_s)  # leave the live hook its moment
    stmt = (
        select(item.id)
        .join(held, held.decision_id == item.request_id + ":" + cast(item.item_index, String))
        .where(held.status == "held", held.updated_at < cutoff, item.status.in_(FINAL))
        .distinct()
        .limit(200)
    )
    async with db.session() as session:
        ids = list(await session.scalars(stmt))
    for item_id in ids:
        found = await review.queue.get(item_id)
        if found is not None:
            await release(found, found.status, review.answer(found))
    return len(ids)


async def run_sweeps(db: Database, review: Any, release: Release, interval_s: float) -> None:
    while True:
        with contextlib.suppress(Exception):
            await sweep(db, review, release)
        await asyncio.sleep(interval_s)
