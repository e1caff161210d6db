"""The FeatureSource seam: an entity's features now (online) and as of a moment (training)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol


class FeatureSource(Protocol):
    def online(self, table: str, entity: str) -> Mapping[str, Any] | None:
        """The newest values, from memory (the request path never waits on a store)."""
        ...

    async def as_of(self, table: str, entity: str, at: datetime) -> Mapping[str, Any] | None:
        """The values that held at ``at``: what serving read then (point-in-time correct)."""
        ...
