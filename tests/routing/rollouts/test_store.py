"""Rollout persistence on SQLite and PostgreSQL: canary runs, stats, assignments, the lease."""

from __future__ import annotations

import pytest

from bastion.errors import Conflict
from bastion.routing.rollouts.config import CanaryPlan
from bastion.routing.rollouts.entities import StatsRecord
from bastion.routing.rollouts.store import RolloutStore
from bastion.store import Database
from tests.routing.rollouts.conftest import FakeClock


async def _start(store: RolloutStore, deployment: str = "d") -> object:
    return await store.start_canary(
        deployment=deployment,
        model="m",
        version=2,
        stable_version=1,
        plan=CanaryPlan(steps=(10.0, 100.0)),
        actor="test",
        reason="",
    )


async def test_one_running_canary_per_deployment(database: Database) -> None:
    store = RolloutStore(database)
    run = await store.start_canary(
        deployment="d",
        model="m",
        version=2,
        stable_version=1,
        plan=CanaryPlan(steps=(10.0, 100.0)),
        actor="test",
        reason="",
    )
    assert run.running and run.traffic == 10 and run.stats_run == f"c{run.id}:s0"
    with pytest.raises(Conflict, match="already has a running canary"):
        await _start(store)
    await _start(store, "other")  # another deployment may run its own
    ended = await store.finish(run, "aborted", actor="bob", reason="stop", details={})
    assert ended is not None and ended.status == "aborted" and ended.traffic == 0
    again = await _start(store)  # the slot is free again
    assert again.running  # type: ignore[attr-defined]
    assert {r.deployment for r in await store.running()} == {"d", "other"}


async def test_transitions_are_conditional(database: Database) -> None:
    store = RolloutStore(database)
    run = await store.start_canary(
        deployment="d",
        model="m",
        version=2,
        stable_version=1,
        plan=CanaryPlan(steps=(10.0, 50.0, 100.0)),
        actor="test",
        reason="",
    )
    moved = await store.advance(run, step_index=1, details={"why": "ok"})
    assert moved is not None and moved.traffic == 50 and moved.step_index == 1
    assert await store.advance(run, step_index=1, details={}) is None  # stale view: refused
    assert await store.finish(run, "rolled_back", actor="x", reason="", details={}) is None
    done = await store.finish(moved, "rolled_back", actor="x", reason="slo", details={})
    assert done is not None and done.running is False
    events = await store.events(run.id)
    assert [e.action for e in events] == ["started", "advanced", "rolled_back"]
    assert events[1].details == {"why": "ok"}
    latest = await store.latest("d")
    assert latest is not None and latest.status == "rolled_back" and latest.reason == "slo"


async def test_stats_upsert_per_process(database: Database) -> None:
    store = RolloutStore(database)
    rec = StatsRecord("canary", "d", "c1:s0", "canary", "m", {"requests": 1})
    await store.save_stats("p1", [rec])
    await store.save_stats(
        "p1", [StatsRecord("canary", "d", "c1:s0", "canary", "m", {"requests": 5})]
    )
    await store.save_stats("p2", [rec])
    rows = await store.load_stats("canary", deployment="d", run="c1:s0")
    assert sorted((r.process, r.data["requests"]) for r in rows) == [("p1", 5), ("p2", 1)]
    assert await store.load_stats("shadow") == []


async def test_assignments_by_arm(database: Database) -> None:
    store = RolloutStore(database)
    await store.log_assignments(
        [("r1", "d", "e", "a"), ("r2", "d", "e", "b"), ("r3", "d", "x", "a")]
    )
    assert await store.assignments("d", "e") == {"a": ["r1"], "b": ["r2"]}


async def test_lease_is_exclusive_until_it_expires(database: Database) -> None:
    clock = FakeClock()
    store = RolloutStore(database, clock)
    assert await store.acquire_lease("driver", "p1", 10)
    assert not await store.acquire_lease("driver", "p2", 10)
    assert await store.acquire_lease("driver", "p1", 10)  # renewal
    clock.advance(11)
    assert await store.acquire_lease("driver", "p2", 10)  # p1 went quiet
    assert not await store.acquire_lease("driver", "p1", 10)
    await store.release_lease("driver", "p2")
    assert await store.acquire_lease("driver", "p1", 10)
