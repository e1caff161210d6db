"""A dispatcher in its own process, for the two-process test: ``python -m
tests.actions.dispatch_proc DATABASE_URL RECEIVER_URL WORKER`` runs until no action is live."""

from __future__ import annotations

import asyncio
import sys

from bastion.actions.outbox import OutboxStore
from bastion.store import Database
from bastion.store.actions_tables import LIVE
from tests.actions.helpers import close, dispatcher, settings

NOTIFY = {
    "name": "notify",
    "max_attempts": 50,
    "steps": [
        {"name": "post", "destination": "hook", "path": "/hook", "body": {"n": "{{ input.n }}"}}
    ],
}


async def main(url: str, receiver: str, worker: str) -> None:
    db = Database(url)
    store = OutboxStore(db)
    cfg = settings(
        {"hook": {"kind": "http", "url": receiver, "breaker": {"min_calls": 1000}}},
        [NOTIFY],
        batch=25,
    )
    d = dispatcher(store, cfg, worker)
    while not await store.counts():  # wait for the test to queue the actions
        await asyncio.sleep(0.02)
    while True:
        if not await d.run_once():
            counts = await store.counts()
            if not any(counts.get(s, 0) for s in LIVE):
                break
            await asyncio.sleep(0.02)
    await close(d)
    await db.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
