"""The prompt registry: immutable versions, aliases, history, rollback; the serving view
follows alias changes made through another registry object (another replica)."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.prompts.live import PromptBook
from bastion.prompts.registry import PromptRegistry
from bastion.store import Database


def spec(text: str) -> dict[str, Any]:
    return {
        "model": "fast",
        "variables": {"type": "object", "properties": {"q": {"type": "string"}}},
        "messages": [{"role": "user", "content": f"{text} {{{{q}}}}"}],
    }


async def test_versions_are_numbered_and_never_change(database: Database) -> None:
    registry = PromptRegistry(database)
    first = await registry.register("support", spec("one"), created_by="ann", tenant="acme")
    second = await registry.register("support", spec("two"), created_by="ann")
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(Conflict, match="version 2 already holds this template"):
        await registry.register("support", spec("two"), created_by="ann")
    assert [v.version for v in await registry.list_versions("support")] == [1, 2]
    assert (await registry.get_version("support", 1)).template.messages[0].content == "one {{q}}"
    assert await registry.owner("support") == "acme"  # the first registration's owner stays


async def test_a_bad_template_stores_nothing(database: Database) -> None:
    registry = PromptRegistry(database)
    with pytest.raises(InvalidRequest):
        await registry.register("support", {"model": "fast", "messages": []}, created_by="a")
    with pytest.raises(InvalidRequest, match="invalid prompt name"):
        await registry.register("Bad Name", spec("x"), created_by="a")
    assert await registry.list_prompts() == []


async def test_promote_rollback_and_history(database: Database) -> None:
    registry = PromptRegistry(database)
    for text in ("a", "b", "c"):
        await registry.register("support", spec(text), created_by="ann")
    await registry.set_alias("support", "production", 1, actor="ann", action="promote")
    await registry.set_alias("support", "production", 3, actor="ann", action="promote")
    assert (await registry.resolve("support", "production")).version == 3
    event = await registry.rollback("support", "production", actor="bob", reason="bad answers")
    assert (event.version, event.previous_version) == (1, 3)
    assert (await registry.resolve("support", "production")).version == 1
    assert [e.action for e in await registry.history("support")] == [
        "promote",
        "promote",
        "rollback",
    ]
    with pytest.raises(Conflict, match="no earlier version"):
        await registry.rollback("support", "production", actor="bob")
    with pytest.raises(NotFound, match="has no version 9; its versions: 1, 2, 3"):
        await registry.set_alias("support", "production", 9, actor="ann", action="promote")
    with pytest.raises(NotFound, match="no prompt named 'other'"):
        await registry.set_alias("other", "production", 1, actor="ann", action="promote")
    assert (await registry.resolve("support", "production")).version == 1  # refusals moved nothing


async def test_prompt_and_model_aliases_are_apart(database: Database) -> None:
    registry = PromptRegistry(database)
    await registry.register("support", spec("a"), created_by="ann")
    await registry.set_alias("support", "production", 1, actor="ann", action="promote")
    assert await registry.snapshot() == {("support", "production"): 1}
    from bastion.registry.aliases import AliasBook

    assert await AliasBook(database).snapshot() == {}  # the models' aliases are untouched


async def test_another_replicas_change_reaches_the_serving_view(database: Database) -> None:
    here, there = PromptRegistry(database), PromptRegistry(database)
    await here.register("support", spec("a"), created_by="ann")
    await here.register("support", spec("b"), created_by="ann")
    await here.set_alias("support", "production", 1, actor="ann", action="promote")
    book = PromptBook(here, poll_interval_s=0.05)
    await book.refresh(force=True)
    assert (await book.resolve("support", "production")).version == 1
    await there.set_alias("support", "production", 2, actor="bob", action="promote")
    assert (await book.resolve("support", "production")).version == 1  # not yet polled
    assert await book.refresh() is True
    assert (await book.resolve("support", "production")).version == 2
    assert await book.refresh() is False  # nothing moved since
    assert (await book.resolve("support", "1")).version == 1
    with pytest.raises(NotFound, match="has no alias 'staging'"):
        await book.resolve("support", "staging")
