"""What one Ray Serve replica runs: the same backend the gateway would run in-process, built
from the same ModelSpec, loaded once on the replica's first call. No Ray import here: the
class is wrapped by ``serve.deployment`` in ``ray_serve.py`` and imported by Ray's workers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bastion.backends.base import Backend, ModelSpec, Prediction


class ServedModel:
    """A Ray Serve deployment's class: ``infer(inputs)`` → predictions, as in-process."""

    def __init__(self, spec: ModelSpec) -> None:
        from bastion.backends.factories import create_backend
        from bastion.backends.resources import Resources

        self._backend: Backend = create_backend(spec, Resources())
        self._loaded = False
        self._lock = asyncio.Lock()

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if not self._loaded:
            async with self._lock:
                if not self._loaded:
                    await self._backend.load()
                    self._loaded = True
        return await self._backend.infer(inputs)

    async def check_health(self) -> None:
        """Ray Serve's health probe: the replica is alive (its model loads on first use)."""
