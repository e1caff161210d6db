from __future__ import annotations

from typing import Any

from bastion.guards.texts import all_texts, iter_texts, map_texts

ITEMS: list[Any] = [
    "plain",
    {"a": "x", "b": ["y", {"c": "z", "n": 3}], "d": None},
    {
        "model": "m",
        "messages": [
            {"role": "system", "content": "sys"},
            "not a message",
            {"role": "user", "content": [
                {"type": "text", "text": "part one"},
                {"type": "image_url", "image_url": {"url": "u"}},
                {"type": "text", "text": 7},
                {"type": "text", "text": "part two"},
            ]},
            {"role": "tool", "content": None},
        ],
        "user": "not a text slot of a chat body",
    },
    [{"messages": [{"role": "user", "content": "nested chat"}]}, "tail"],
    42,
]  # fmt: skip


def test_iter_texts_yields_map_texts_slots_in_its_order() -> None:
    for item in ITEMS:
        visited: list[str] = []

        def visit(text: str, seen: list[str] = visited) -> str:
            seen.append(text)
            return text

        map_texts(item, visit)
        assert list(iter_texts(item)) == visited == all_texts(item)


def test_iter_texts_copies_nothing() -> None:
    chat = ITEMS[2]
    assert next(iter(iter_texts(chat))) is chat["messages"][0]["content"]
