"""The FeatureSource seam: an entity's features now (online) and as of a moment (training)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol


class FeatureSource(Protocol):
    def online(self, table: str, entity: str) -> Mapping[str, Any] | None:
        """The newest values (the built-in table answers from memory)."""
        ...

    async def fetch(self, table: str, entities: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        """The newest values of a call's ``entities`` in one round trip (absent ones left out):
        what the enrich stage reads."""
        ...

    async def as_of(self, table: str, entity: str, at: datetime) -> Mapping[str, Any] | None:
        """The values that held at ``at``: what serving read then (point-in-time correct)."""
        ...

    async def as_of_many(
        self, table: str, asks: Sequence[tuple[str, datetime]]
    ) -> list[Mapping[str, Any] | None]:
        """``as_of`` for each ``(entity, at)``, in order (the training export's chunks)."""
        ...
