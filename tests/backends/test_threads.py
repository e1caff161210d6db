"""A slow version never delays another: each loaded version has its own bounded threads."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from bastion.backends.base import ModelSpec
from bastion.backends.python_fn import PythonBackend
from bastion.backends.resources import Resources

RELEASE = threading.Event()


def stuck(inputs: list[Any]) -> list[Any]:
    """The slow candidate: holds its thread until the test releases it."""
    RELEASE.wait(30)
    return ["late" for _ in inputs]


def quick(inputs: list[Any]) -> list[Any]:
    return ["now" for _ in inputs]


def _backend(version: int, fn: str) -> PythonBackend:
    spec = ModelSpec(
        "m", version, "python", None, params={"entry_point": f"tests.backends.test_threads:{fn}"}
    )
    return PythonBackend(spec, Resources())


async def test_a_version_stuck_on_every_thread_leaves_another_version_serving() -> None:
    slow, stable = _backend(2, "stuck"), _backend(1, "quick")
    await slow.load()
    await stable.load()
    RELEASE.clear()
    # More blocked calls than the loop's shared default executor has threads (cpu + 4).
    blocked = [asyncio.create_task(slow.infer([{}])) for _ in range(40)]
    try:
        await asyncio.sleep(0)
        answered = await asyncio.wait_for(stable.infer([{}]), timeout=20)
        assert [p.output for p in answered] == ["now"]
        assert not any(t.done() for t in blocked)  # the slow ones were still stuck meanwhile
    finally:
        RELEASE.set()
        outputs = await asyncio.gather(*blocked)
        await slow.aclose()
        await stable.aclose()
    assert {p.output for out in outputs for p in out} == {"late"}
