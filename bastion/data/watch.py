"""Live schema watch: the last ``window`` inputs of a deployment, diffed every ``every`` rows.

Fed by the data stage (deployments with a data contract). A renamed field or a unit change
in live traffic is reported — an alert signal of kind ``schema_change`` — once it fills at
least half of the window: within ``window / 2 + every`` requests (200 with the defaults).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from bastion.data.diff import SchemaDiff, expected_fields, schema_diff
from bastion.monitoring import ReferenceProfile

OnDiff = Callable[[str, SchemaDiff], None]


class SchemaWatch:
    def __init__(self, window: int, every: int, on_diff: OnDiff) -> None:
        self._window = window
        self._every = every
        self._on_diff = on_diff
        self._rows: dict[str, deque[Any]] = {}
        self._since: dict[str, int] = {}
        self.latest: dict[str, SchemaDiff] = {}

    def feed(
        self,
        deployment: str,
        inputs: list[Any],
        schema: Mapping[str, Any] | None,
        profile: ReferenceProfile | None,
    ) -> None:
        rows = self._rows.setdefault(deployment, deque(maxlen=self._window))
        rows.extend(inputs)
        since = self._since.get(deployment, 0) + len(inputs)
        if since < self._every:
            self._since[deployment] = since
            return
        self._since[deployment] = 0
        diff = schema_diff(rows, expected_fields(schema, profile), profile)
        self.latest[deployment] = diff
        self._on_diff(deployment, diff)
