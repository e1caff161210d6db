"""Settings of the action layer: destinations, per-deployment actions (sagas), the dispatcher,
events out and event-driven inference in."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from bastion.settings.core import Section

_NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
ConflictPolicy = Literal["retry", "review", "fail"]


class CredentialSettings(Section):
    """A secret read at start from an environment variable or a file (never logged)."""

    env: str | None = Field(None, description="name of the environment variable holding it")
    file: Path | None = Field(None, description="a file holding it (surrounding space stripped)")
    header: str = Field("authorization", description="HTTP header that carries it")
    scheme: str = Field("Bearer", description="prefix before the secret ('' for none)")

    @model_validator(mode="after")
    def _one_source(self) -> CredentialSettings:
        if (self.env is None) == (self.file is None):
            raise ValueError("a credential names exactly one of env or file")
        return self


class BreakerSettings(Section):
    failure_rate: float = Field(0.5, gt=0, le=1)
    min_calls: int = Field(20, ge=1)
    open_s: float = Field(5.0, gt=0)


class DestinationSettings(Section):
    """Where action steps go. ``kind``: http (or webhook: http plus an HMAC signature),
    sql (a PostgreSQL or SQLite URL), nats (JetStream), python (``module:function``)."""

    kind: Literal["http", "webhook", "sql", "nats", "python"]
    url: str | None = Field(None, description="base URL (http), database URL (sql), nats://")
    callable: str | None = Field(None, description="python: 'package.module:function'")
    stream: str | None = Field(None, description="nats: the JetStream stream (created if absent)")
    subjects: list[str] = Field(default_factory=list, description="nats: the stream's subjects")
    headers: dict[str, str] = Field(default_factory=dict)
    credential: CredentialSettings | None = None
    signing_secret: CredentialSettings | None = Field(
        None, description="webhook: the HMAC-SHA256 key (its header/scheme are unused)"
    )
    timeout_s: float = Field(5.0, gt=0, le=300)
    max_concurrency: int = Field(64, ge=1, le=10_000, description="attempts in flight at once")
    breaker: BreakerSettings = BreakerSettings()

    @model_validator(mode="after")
    def _complete(self) -> DestinationSettings:
        if self.kind in ("http", "webhook", "sql", "nats") and not self.url:
            raise ValueError(f"a {self.kind} destination needs a url")
        if self.kind == "python" and not self.callable:
            raise ValueError("a python destination needs callable: 'module:function'")
        if self.kind == "nats" and not self.stream:
            raise ValueError("a nats destination needs a stream name")
        if self.kind == "webhook" and self.signing_secret is None:
            raise ValueError("a webhook destination needs a signing_secret (env or file)")
        return self


class StepCallSettings(Section):
    """One call to a destination. Strings may hold ``{{ path }}`` placeholders over
    ``input``, ``output``, ``confidence``, ``decision_id``, ``request_id``, ``deployment``,
    ``version`` (a string that is one placeholder keeps the value's type)."""

    destination: str
    method: Literal["POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field("", description="http: appended to the destination's url")
    body: Any = Field(None, description="http/nats/python: the templated JSON body")
    headers: dict[str, str] = Field(default_factory=dict)
    if_match: str | None = Field(None, description="http: If-Match value (optimistic concurrency)")
    subject: str | None = Field(None, description="nats: the subject to publish to")
    statement: str | None = Field(None, description="sql: one statement with :named parameters")
    params: dict[str, Any] = Field(default_factory=dict, description="sql: templated parameters")
    expect_rows: int | None = Field(
        None, ge=0, description="sql: rows the statement must touch, else a conflict"
    )
    reread: str | None = Field(
        None,
        description="sql: a SELECT whose single value replaces the 'expected' parameter "
        "before a conflict is retried (policy retry)",
    )


class StepSettings(StepCallSettings):
    name: str = Field(pattern=_NAME)
    compensate: StepCallSettings | None = None


class ActionSettings(Section):
    """One action of a deployment: when ``when`` holds for a decision, run ``steps`` in order
    (a saga: a step that fails for good compensates the completed ones in reverse)."""

    name: str = Field(pattern=_NAME)
    when: str = Field("true", description="e.g. output.label == 'refund' and confidence >= 0.8")
    steps: list[StepSettings] = Field(min_length=1)
    max_attempts: int = Field(8, ge=1, le=100)
    on_conflict: ConflictPolicy = "retry"

    @model_validator(mode="after")
    def _unique_steps(self) -> ActionSettings:
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"action {self.name}: step names must be unique")
        return self


class DispatcherSettings(Section):
    enabled: bool = Field(True, description="run a dispatcher in this server process")
    poll_interval_s: float = Field(0.2, gt=0, le=60)
    batch: int = Field(200, ge=1, le=5000, description="actions claimed at once")
    lease_s: float = Field(30.0, gt=0, le=3600, description="a claim expires after this")
    backoff_base_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(300.0, gt=0)
    retry_after_max_s: float = Field(3600.0, gt=0, description="Retry-After is capped here")


class EventSinkSettings(Section):
    """Where CloudEvents go: a destination (nats or webhook) and the event types it takes."""

    destination: str
    subject_prefix: str = Field("bastion.events", description="nats: subject = prefix.type")
    path: str = ""
    types: list[str] = Field(
        default_factory=lambda: ["decision", "review", "alias", "alert", "action"],
        description="decision | review | alias | alert | action",
    )


class IntakeSettings(Section):
    """Event-driven inference in: a deployment consumes requests from a JetStream subject."""

    deployment: str
    url: str = "nats://127.0.0.1:4222"
    stream: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    subject: str
    durable: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    reply_subject: str
    max_in_flight: int = Field(64, ge=1, le=10_000)
    ack_wait_s: float = Field(30.0, gt=0)


class ActionsSettings(Section):
    """The action layer (docs/actions.md)."""

    destinations: dict[str, DestinationSettings] = Field(default_factory=dict)
    deployments: dict[str, list[ActionSettings]] = Field(
        default_factory=dict, description="deployment name → its actions"
    )
    dispatcher: DispatcherSettings = DispatcherSettings()
    events: list[EventSinkSettings] = Field(default_factory=list)
    intake: list[IntakeSettings] = Field(default_factory=list)
    callback_prefixes: list[str] = Field(
        default_factory=list,
        description="?async=true callbacks may only go to URLs starting with one of these",
    )
    callback_secret: CredentialSettings | None = Field(
        None, description="signs ?async=true callbacks (HMAC-SHA256; see docs/actions.md)"
    )

    @model_validator(mode="after")
    def _destinations_known(self) -> ActionsSettings:
        known = set(self.destinations)
        for deployment, actions in self.deployments.items():
            names = [a.name for a in actions]
            if len(set(names)) != len(names):
                raise ValueError(f"deployment {deployment}: action names must be unique")
            for action in actions:
                for step in action.steps:
                    for call in (step, step.compensate):
                        if call is not None and call.destination not in known:
                            raise ValueError(
                                f"deployment {deployment}, action {action.name}, step "
                                f"{step.name}: unknown destination '{call.destination}' "
                                f"(declared: {', '.join(sorted(known)) or 'none'})"
                            )
        for sink in self.events:
            if sink.destination not in known:
                raise ValueError(f"events: unknown destination '{sink.destination}'")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.deployments)
