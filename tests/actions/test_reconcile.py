"""The sweep that releases held actions whose review was decided but never released."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from bastion.actions.outbox import OutboxStore
from bastion.actions.reconcile import sweep
from bastion.store import Database
from bastion.store.actions_tables import ActionRow
from bastion.store.review_tables import ReviewItemRow
from bastion.store.tables import utcnow
from tests.actions.helpers import intents


class Review:
    """The review service's two reads the sweep uses: an item by id, and its final answer."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.queue = self

    async def get(self, item_id: str) -> Any:
        async with self.db.session() as session:
            return await session.get(ReviewItemRow, item_id)

    def answer(self, item: Any) -> Any:
        return {"label": "refund"}


def _item(item_id: str, request_id: str, index: int, status: str) -> ReviewItemRow:
    now = utcnow()
    return ReviewItemRow(
        id=item_id,
        request_id=request_id,
        item_index=index,
        deployment="demo",
        model="m",
        version=1,
        tenant="default",
        requested_by="app",
        source="review",
        triggers=["confidence"],
        priority=0,
        tier=1,
        tier2_role="approver",
        status=status,
        confidence=0.3,
        encrypted=False,
        payload=b"{}",
        created_at=now,
        sla_due_at=now + timedelta(hours=1),
        reason="",
    )


async def test_decided_items_release_their_held_actions_pending_ones_stay(
    database: Database,
) -> None:
    held = [dataclasses.replace(i, status="held") for i in intents(2)]
    await OutboxStore(database).insert(held)
    old = utcnow() - timedelta(minutes=5)
    async with database.session() as session:
        session.add_all(
            [_item("rev_a", "req-0", 0, "corrected"), _item("rev_b", "req-1", 0, "pending")]
        )
        await session.execute(update(ActionRow).values(updated_at=old))
        await session.commit()
    released: list[tuple[str, str, Any]] = []

    async def release(item: Any, status: str, output: Any) -> None:
        released.append((item.id, status, output))

    assert await sweep(database, Review(database), release) == 1
    assert released == [("rev_a", "corrected", {"label": "refund"})]
