"""Fake python-flavor models for rollout tests (``tests.routing.rollouts.models:NAME``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any


def stable(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": "ok", "v": 1}, "confidence": 0.9} for _ in inputs]


def same_label(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": "ok", "v": 2}, "confidence": 0.8} for _ in inputs]


def other_label(inputs: list[Any]) -> list[Any]:
    return [{"output": {"label": "other"}, "confidence": 0.3} for _ in inputs]


def broken(inputs: list[Any]) -> list[Any]:
    raise RuntimeError("the canary model crashed")


def flag_fails(inputs: list[Any]) -> list[Any]:
    """Healthy until the file named by ROLLOUT_TEST_FAIL_FLAG exists."""
    flag = os.environ.get("ROLLOUT_TEST_FAIL_FLAG")
    if flag and Path(flag).exists():
        raise RuntimeError("the canary started failing")
    return same_label(inputs)


class Gated:
    """An async model that waits for ``Gated.release`` (set by the test) before answering."""

    started: asyncio.Event | None = None
    release: asyncio.Event | None = None

    async def predict(self, inputs: list[Any]) -> list[Any]:
        if Gated.started is not None:
            Gated.started.set()
        if Gated.release is not None:
            await Gated.release.wait()
        return same_label(inputs)


def times_out(inputs: list[Any]) -> list[Any]:
    """A failure the stable version could not fix in time: never re-served."""
    from bastion.errors import Timeout

    raise Timeout("the canary ran out of time")
