"""Call and Result: the one transport-agnostic shape every API is turned into.

What the stages learn about a call lives in the typed fields below, never in a free-form
dict: this file is the one place that says what any stage may set and who reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bastion.core.deadline import Deadline
from bastion.core.principal import Principal

if TYPE_CHECKING:
    from bastion.backends.base import Prediction
    from bastion.governance.budget.base import BudgetThresholdCrossed
    from bastion.store.actions_tables import OutboxIntent

LlmKind = Literal["chat", "completions", "embeddings"]
CacheOutcome = Literal["miss", "hit", "semantic-hit"]
Finisher = Callable[["Result | None", "BaseException | None"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class LlmRequest:
    """What the OpenAI adapter tells the stages about a call to an LLM group: the kind of
    call and the token estimates the admit stage reserves a budget from."""

    kind: LlmKind
    model: str | None = None
    estimated_prompt_tokens: int = 0
    max_tokens: int = 0

    @property
    def estimated_tokens(self) -> int:
        return self.estimated_prompt_tokens + self.max_tokens


@dataclass(frozen=True, slots=True)
class PromptUse:
    """The prompt template version a call rendered (set by the prompt adapters): read by the
    guard (``untrusted``: the client's variable values, screened for injection instead of the
    template's own text), the audit record, the request log, the trace and the usage log."""

    name: str
    version: int
    alias: str | None = None
    citations: tuple[Mapping[str, Any], ...] = ()  # document, chunk, score of each
    untrusted: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "citations": [dict(c) for c in self.citations],
        }


@dataclass(frozen=True, slots=True)
class GuardReport:
    """What the guard stage found: PII counts by type, the injection verdict (if screened)."""

    pii: Mapping[str, int]
    injection: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"pii": dict(self.pii), "injection": self.injection}


MISSING_FEATURES = "features"  # a ReviewFlag's guard when features were missing (features/)


@dataclass(frozen=True, slots=True)
class ReviewFlag:
    """A guard's (or the enrich stage's, ``guard`` = ``MISSING_FEATURES``) request that a
    human look at this call's answer."""

    guard: str
    score: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What the decide stage did: ``pending`` | ``decided`` | ``escalated``, the review items
    (ids, statuses, triggers: safe to show the client) and the escalated indexes."""

    status: str
    items: tuple[Mapping[str, Any], ...] = ()
    escalated: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "items": [dict(i) for i in self.items],
            "escalated": list(self.escalated),
        }


@dataclass(slots=True)
class Call:
    """One request on its way through the pipeline; lives for one request, never shared.

    The adapter fills what came over the wire (first block); a batch job's columnar path
    passes ``inputs`` as ``FeatureRows`` (``bastion/core/columns.py``: a float matrix that
    still reads as the list of dicts, built on demand). Stages set the rest:

    - authenticate: ``principal``; route: ``target``, ``version``, ``queue_s``;
    - admit: ``response_headers`` (``x-ratelimit-*``), ``cost_usd`` once settled,
      ``budget_events``; guard: ``guards``, ``review_flags``; cache: ``cache``;
    - the target (execute): ``usage``, ``usage_estimated``, ``cost_usd`` (its own
      price), ``served_by`` (the group or model that answered, ``static`` for the static
      fallback), ``first_chunk_s`` (a stream's time to its first chunk), ``delivered`` (a
      stream's whole answer, assembled from the chunks it sent: its Result has none),
      for a stream continued on other upstreams after it broke: ``continuations`` (each
      switch), ``stream_fallback`` (the group that finished it, when not the one whose
      headers went out) and ``upstream_costs`` (USD by upstream, hedges included);
    - record's execute timer: ``backend_s``; decide: ``review``, ``review_original``.

    ``finishers`` are how a call ends, streamed or not, in one documented order: each stage
    that has work after the answer appends one as ``next`` returns, so they run innermost
    first (``bastion.pipeline.ending.end_call``); for a stream, after its last chunk and
    before its terminator goes out.
    """

    request_id: str
    deployment: str
    api: str
    inputs: list[Any]
    batched: bool
    started_at: float
    requested_version: int | None = None
    stream: bool = False
    deadline: Deadline | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    llm: LlmRequest | None = None  # set by the OpenAI adapter for calls to an LLM group
    prompt: PromptUse | None = None  # set by the prompt adapters: the template version used

    principal: Principal | None = None
    version: int | None = None
    target: Target | None = None
    queue_s: float = 0.0
    backend_s: float | None = None
    first_chunk_s: float | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    guards: GuardReport | None = None
    review_flags: list[ReviewFlag] = field(default_factory=list)
    cache: CacheOutcome | None = None
    usage: Mapping[str, Any] | None = None
    usage_estimated: bool = False
    cost_usd: float | None = None
    served_by: str | None = None
    budget_events: list[BudgetThresholdCrossed] = field(default_factory=list)
    review: ReviewOutcome | None = None
    review_original: list[Prediction] | None = None
    delivered: Prediction | None = None  # a stream's answer, assembled from what it sent
    continuations: list[str] = field(default_factory=list)
    stream_fallback: str | None = None
    upstream_costs: dict[str, float] = field(default_factory=dict)
    finishers: list[Finisher] = field(default_factory=list)

    @property
    def tenant(self) -> str | None:
        return self.principal.tenant if self.principal is not None else None

    @property
    def cached(self) -> bool:
        return self.cache in ("hit", "semantic-hit")

    # The action layer (bastion.actions): indexes of predictions the decide stage sent to a
    # human (their actions wait for the decision), and the action intents the act stage
    # found, written in the same commit as the call's audit record.
    reviewed: frozenset[int] = frozenset()
    outbox: tuple[OutboxIntent, ...] = ()


@dataclass(frozen=True, slots=True)
class Result:
    """What the pipeline answers for one Call: one prediction per input, or a stream.

    ``model`` is the model that actually answered (after any fallback). ``stream`` yields
    ready-to-send data chunks and no terminator: it ends by returning (complete) or by
    raising a ``BastionError`` (broken); the adapter sends the end its protocol uses.
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
