"""Building blocks for action tests: settings, intents, and running a dispatcher to the end."""

from __future__ import annotations

import asyncio
from typing import Any

from bastion.actions.compiled import Catalog
from bastion.actions.destinations import build_destination
from bastion.actions.dispatcher import Dispatcher
from bastion.actions.outbox import OutboxStore
from bastion.actions.stage import new_action_id
from bastion.settings.actions import ActionsSettings
from bastion.store.actions_tables import FINAL, ActionRow, OutboxIntent
from bastion.store.tables import utcnow

FAST = {"poll_interval_s": 0.02, "backoff_base_s": 0.005, "backoff_max_s": 0.05, "lease_s": 30}


def settings(
    destinations: dict[str, Any], actions: list[dict[str, Any]], **dispatcher: Any
) -> ActionsSettings:
    return ActionsSettings.model_validate(
        {
            "destinations": destinations,
            "deployments": {"demo": actions},
            "dispatcher": {**FAST, **dispatcher},
        }
    )


def intents(n: int, action: str = "notify", tenant: str = "default") -> list[OutboxIntent]:
    now = utcnow()
    return [
        OutboxIntent(
            id=new_action_id(),
            tenant=tenant,
            deployment="demo",
            action=action,
            decision_id=f"req-{i}:0",
            request_id=f"req-{i}",
            status="pending",
            context={"input": {"n": i}, "output": {"label": "x"}, "confidence": 0.9},
            at=now,
        )
        for i in range(n)
    ]


def dispatcher(store: OutboxStore, cfg: ActionsSettings, worker: str = "w1") -> Dispatcher:
    destinations = {name: build_destination(name, d) for name, d in cfg.destinations.items()}
    return Dispatcher(store, Catalog(cfg), destinations, cfg, worker=worker)


async def drain(d: Dispatcher, store: OutboxStore, *, timeout_s: float = 60.0) -> list[ActionRow]:
    """Run the dispatcher until no action is live, then return every row."""
    async with asyncio.timeout(timeout_s):
        while True:
            claimed = await d.run_once()
            rows = await store.browse(
                None, all_tenants=True, status=None, deployment=None, limit=100_000
            )
            if all(r.status in (*FINAL, "conflict") for r in rows):
                return list(rows)
            if not claimed:
                await asyncio.sleep(0.01)


async def close(d: Dispatcher) -> None:
    for dest in d.destinations.values():
        await dest.aclose()
