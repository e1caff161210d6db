"""Evaluation's seams: a scorer, what a scorer sees, a loaded model, the shadow stats source."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bastion.backends.base import Backend
    from bastion.registry import ModelVersion


@dataclass(frozen=True, slots=True)
class Observations:
    """What scorers see for N rows: the scored value of each output (see ``outputs.py``),
    the raw outputs, the expected values, and each row's model-call latency in ms."""

    values: Sequence[Any]
    raw: Sequence[Any]
    expected: Sequence[Any]
    latency_ms: Sequence[float]

    def __len__(self) -> int:
        return len(self.values)

    def subset(self, index: Sequence[int]) -> Observations:
        return Observations(
            [self.values[i] for i in index],
            [self.raw[i] for i in index],
            [self.expected[i] for i in index],
            [self.latency_ms[i] for i in index],
        )


class Scorer(Protocol):
    """Turns observations into named metrics. ``name`` is the spec it was built from."""

    @property
    def name(self) -> str: ...

    def score(self, obs: Observations) -> dict[str, float]: ...


class LoadedModel(Protocol):
    """A model version loaded in this process (``routing.loaded.LoadedVersion`` is one)."""

    @property
    def backend(self) -> Backend: ...

    @property
    def record(self) -> ModelVersion: ...

    def check_inputs(self, inputs: list[Any], *, batched: bool) -> None: ...


Loader = Callable[[str, int], Awaitable[LoadedModel]]


class Registered(Protocol):
    @property
    def created_by_key(self) -> str | None: ...


class GateSubjects(Protocol):
    """What promotion gates read of the versioned things they gate (the model registry; the
    prompt registry through an adapter): owners, current aliases, who registered a version."""

    async def owner(self, name: str) -> str | None: ...

    async def aliases(self, name: str) -> dict[str, int]: ...

    async def get_version(self, name: str, version: int) -> Registered: ...


class ShadowSource(Protocol):
    """Shadow agreement of a candidate version with live traffic, over every process."""

    async def __call__(self, model: str, version: int) -> tuple[float | None, int]:
        """``(agreement rate or None, compared outputs)``."""
        ...
