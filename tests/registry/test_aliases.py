"""Aliases: set, promote, the rollback stack, removal, history, revision and snapshot."""

from __future__ import annotations

import asyncio

import pytest

from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.registry import Registry
from bastion.registry.aliases import alias_stack


async def _versions(registry: Registry, name: str, count: int) -> None:
    for i in range(count):
        await registry.register(
            name, flavor="python", artifact=f"{name}{i}".encode(), artifact_name="m.bin"
        )


@pytest.mark.parametrize(
    ("events", "stack"),
    [
        ([], []),
        ([("promote", 1), ("promote", 2), ("promote", 3)], [1, 2, 3]),
        ([("promote", 1), ("promote", 2), ("promote", 3), ("rollback", 2)], [1, 2]),
        ([("set", 1), ("promote", 2), ("rollback", 1), ("promote", 3)], [1, 3]),
        ([("promote", 1), ("promote", 2), ("remove", None), ("set", 4)], [4]),
    ],
)
def test_alias_stack_replays_events(events: list, stack: list[int]) -> None:
    assert alias_stack(events) == stack


async def test_set_alias_resolve_and_snapshot(registry: Registry) -> None:
    await _versions(registry, "m", 3)
    event = await registry.set_alias("m", "staging", 2, actor="bob", reason="try it")
    assert (event.name, event.alias, event.version, event.previous_version) == (
        "m",
        "staging",
        2,
        None,
    )
    assert (event.action, event.actor, event.reason) == ("set", "bob", "try it")
    assert event.at.tzinfo is not None
    await registry.promote("m", 3, actor="bob")
    assert await registry.aliases("m") == {"production": 3, "staging": 2}
    assert (await registry.resolve("m", "production")).version == 3
    assert (await registry.resolve("m", "staging")).aliases == ("staging",)
    assert (await registry.resolve("m", "1")).version == 1
    assert (await registry.resolve("m", "v2")).version == 2
    assert (await registry.resolve("m", "latest")).version == 3
    with pytest.raises(NotFound, match=r"no alias 'canary'; its aliases: production → 3"):
        await registry.resolve("m", "canary")
    with pytest.raises(NotFound, match="no version 9"):
        await registry.resolve("m", "9")
    with pytest.raises(NotFound, match="no alias '²'"):
        await registry.resolve("m", "²")
    with pytest.raises(NotFound, match="no version 99999999999"):
        await registry.resolve("m", "99999999999")
    with pytest.raises(NotFound, match="no model named"):
        await registry.resolve("other", "production")
    assert await registry.snapshot() == {("m", "production"): 3, ("m", "staging"): 2}


async def test_promote_errors(registry: Registry) -> None:
    await _versions(registry, "m", 2)
    with pytest.raises(NotFound, match="no version 5; its versions: 1, 2"):
        await registry.promote("m", 5, actor="a")
    with pytest.raises(NotFound, match="no model named 'x'"):
        await registry.promote("x", 1, actor="a")
    await registry.promote("m", 2, actor="a")
    with pytest.raises(Conflict, match="already points at version 2"):
        await registry.promote("m", 2, actor="a")
    with pytest.raises(InvalidRequest, match="action must be"):
        await registry.set_alias("m", "production", 1, actor="a", action="rollback")
    assert await registry.revision() == 1


@pytest.mark.parametrize("alias", ["latest", "3", "Prod", "", "-x", "a b"])
async def test_bad_alias_names_are_refused(registry: Registry, alias: str) -> None:
    await _versions(registry, "m", 1)
    with pytest.raises(InvalidRequest, match="invalid alias"):
        await registry.set_alias("m", alias, 1, actor="a")


async def test_rollback_walks_back_down_the_stack(registry: Registry) -> None:
    await _versions(registry, "m", 3)
    for version in (1, 2, 3):
        await registry.promote("m", version, actor="ops")
    first = await registry.rollback("m", actor="ops", reason="bad latency")
    assert (first.action, first.version, first.previous_version) == ("rollback", 2, 3)
    assert (await registry.resolve("m", "production")).version == 2
    second = await registry.rollback("m", actor="ops")
    assert (second.version, second.previous_version) == (1, 2)
    assert await registry.aliases("m") == {"production": 1}
    with pytest.raises(Conflict, match="no earlier version to roll back to"):
        await registry.rollback("m", actor="ops")
    await registry.promote("m", 3, actor="ops")
    assert (await registry.rollback("m", actor="ops")).version == 1


async def test_rollback_with_nothing_below_is_a_conflict(registry: Registry) -> None:
    await _versions(registry, "m", 2)
    with pytest.raises(Conflict, match="is not set, so there is nothing to roll back"):
        await registry.rollback("m", actor="ops")
    await registry.promote("m", 1, actor="ops")
    with pytest.raises(Conflict, match="no earlier version"):
        await registry.rollback("m", actor="ops")
    with pytest.raises(Conflict, match="is not set"):
        await registry.rollback("m", alias="staging", actor="ops")
    with pytest.raises(NotFound, match="no model named"):
        await registry.rollback("nope", actor="ops")
    assert await registry.aliases("m") == {"production": 1}


async def test_rollbacks_are_per_alias(registry: Registry) -> None:
    await _versions(registry, "m", 3)
    await registry.promote("m", 1, actor="a")
    await registry.promote("m", 1, alias="staging", actor="a")
    await registry.promote("m", 2, alias="staging", actor="a")
    await registry.promote("m", 3, actor="a")
    await registry.rollback("m", alias="staging", actor="a")
    assert await registry.aliases("m") == {"production": 3, "staging": 1}


async def test_remove_alias(registry: Registry) -> None:
    await _versions(registry, "m", 2)
    await registry.promote("m", 1, actor="a")
    await registry.promote("m", 2, actor="a")
    event = await registry.remove_alias("m", "production", actor="a")
    assert (event.action, event.version, event.previous_version) == ("remove", None, 2)
    assert await registry.aliases("m") == {}
    assert await registry.snapshot() == {}
    with pytest.raises(Conflict, match="is not set"):
        await registry.rollback("m", actor="a")
    with pytest.raises(NotFound, match="has no alias 'production'; its aliases: none"):
        await registry.remove_alias("m", "production", actor="a")


async def test_history_records_every_change_in_order(registry: Registry) -> None:
    await _versions(registry, "m", 2)
    await registry.promote("m", 1, actor="a")
    await registry.set_alias("m", "staging", 2, actor="b")
    await registry.promote("m", 2, actor="c", reason="better auc")
    await registry.rollback("m", actor="d", reason="incident 42")
    await registry.remove_alias("m", "staging", actor="e")
    history = await registry.alias_history("m")
    assert [(e.alias, e.action, e.version, e.previous_version, e.actor) for e in history] == [
        ("production", "promote", 1, None, "a"),
        ("staging", "set", 2, None, "b"),
        ("production", "promote", 2, 1, "c"),
        ("production", "rollback", 1, 2, "d"),
        ("staging", "remove", None, 2, "e"),
    ]
    assert [e.id for e in history] == sorted(e.id for e in history)
    production = await registry.alias_history("m", "production")
    assert [e.action for e in production] == ["promote", "promote", "rollback"]
    with pytest.raises(NotFound):
        await registry.alias_history("nope")


async def test_revision_moves_with_every_alias_change(registry: Registry) -> None:
    assert await registry.revision() == 0
    await _versions(registry, "m", 2)
    assert await registry.revision() == 0  # registering is not an alias change
    await registry.promote("m", 1, actor="a")
    assert await registry.revision() == 1
    await registry.promote("m", 2, actor="a")
    await registry.rollback("m", actor="a")
    assert await registry.revision() == 3
    with pytest.raises(Conflict):
        await registry.rollback("m", actor="a")
    assert await registry.revision() == 3


async def test_concurrent_alias_changes_all_land(registry: Registry) -> None:
    names = [f"m{i}" for i in range(4)]
    for name in names:
        await _versions(registry, name, 2)
    await asyncio.gather(*(registry.promote(n, 2, actor="a") for n in names))
    await asyncio.gather(*(registry.promote(n, 1, actor="a") for n in names))
    assert await registry.revision() == 8
    assert await registry.snapshot() == {(n, "production"): 1 for n in names}
