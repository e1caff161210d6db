"""Call and Result: the one transport-agnostic shape every API is turned into."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bastion.backends.base import Prediction
    from bastion.store.actions_tables import OutboxIntent


@dataclass(slots=True)
class Call:
    """One request on its way through the pipeline.

    The adapter fills what came over the wire; stages annotate the rest (principal, the
    chosen target and version, timings). It lives for one request and is never shared.
    ``finishers`` run once the answer is complete — for a stream, after its last byte —
    so that stages can account for what a stream really delivered.
    """

    request_id: str
    deployment: str
    api: str
    inputs: list[Any]
    batched: bool
    started_at: float
    requested_version: int | None = None
    stream: bool = False
    deadline: Any = None  # a bastion.resilience.Deadline, or None for no deadline
    principal: Any = None
    version: int | None = None
    target: Target | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    finishers: list[Callable[[Result | None, BaseException | None], Awaitable[None]]] = field(
        default_factory=list
    )
    # The action layer (bastion.actions): indexes of predictions the decide stage sent to a
    # human (their actions wait for the decision), and the action intents the act stage
    # found, written in the same commit as the call's audit record.
    reviewed: frozenset[int] = frozenset()
    outbox: tuple[OutboxIntent, ...] = ()


@dataclass(frozen=True, slots=True)
class Result:
    """What the pipeline answers for one Call: one prediction per input, or a stream.

    ``model`` is the model that actually answered (after any fallback); ``stream`` yields
    ready-to-send bytes (SSE for the OpenAI routes).
    """

    deployment: str
    model: str
    version: int
    predictions: list[Prediction]
    headers: Mapping[str, str] = field(default_factory=dict)
    stream: AsyncIterator[bytes] | None = None


class Target(Protocol):
    """What the route stage chooses: something that can run a Call and check its inputs."""

    @property
    def version(self) -> int: ...

    def check_inputs(self, inputs: list[Any], *, batched: bool) -> None: ...

    async def run(self, call: Call) -> Result: ...
