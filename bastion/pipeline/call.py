"""Call and Result: the one transport-agnostic shape every API is turned into."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.backends.base import Prediction


@dataclass(slots=True)
class Call:
    """One request on its way through the pipeline.

    The adapter fills what came over the wire; stages annotate the rest (principal, the
    resolved version, timings). It lives for one request and is never shared.
    """

    request_id: str
    deployment: str
    api: str
    inputs: list[Any]
    batched: bool
    started_at: float
    requested_version: int | None = None
    principal: Any = None
    version: int | None = None
    target: Any = None  # the LoadedVersion chosen by the route stage
    headers: Mapping[str, str] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Result:
    """What the pipeline answers for one Call: one prediction per input, and who made them."""

    deployment: str
    model: str
    version: int
    predictions: list[Prediction]
    headers: Mapping[str, str] = field(default_factory=dict)
