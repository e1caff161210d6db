"""Prompt values: a template, its registered versions, summaries and citations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.store.prompts_tables import PromptVersionRow


@dataclass(frozen=True, slots=True)
class RetrievalStep:
    """Fill variable ``into`` with the top ``k`` chunks of ``collection`` for ``query`` (a
    template over the other variables), filtered by ``filters``."""

    collection: str
    query: str
    into: str
    k: int = 4
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    """What a version renders: messages with ``{{variables}}`` for ``model`` (a model group),
    the call's parameters, the JSON Schema of the variables, an optional retrieval step."""

    model: str
    messages: tuple[Message, ...]
    variables: Mapping[str, Any]
    parameters: Mapping[str, Any] = field(default_factory=dict)
    retrieval: RetrievalStep | None = None
    validator: Any = field(default=None, compare=False, repr=False)  # built once per version

    @property
    def declared(self) -> frozenset[str]:
        """The variables a client passes (the retrieval's target is filled here)."""
        names = frozenset(self.variables.get("properties", {}))
        return names - {self.retrieval.into} if self.retrieval is not None else names

    @property
    def required(self) -> frozenset[str]:
        return frozenset(self.variables.get("required", ())) & self.declared


@dataclass(frozen=True, slots=True)
class PromptVersion:
    """One immutable registered version; ``aliases`` are those pointing at it now."""

    name: str
    version: int
    template: PromptTemplate
    spec: dict[str, Any]  # the template as registered (what `show` prints)
    sha256: str
    description: str
    created_by: str
    created_at: datetime
    created_by_key: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "template": self.spec,
            "sha256": self.sha256,
            "description": self.description,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "aliases": list(self.aliases),
        }

    @classmethod
    def from_row(cls, row: PromptVersionRow, aliases: Iterable[str] = ()) -> PromptVersion:
        from bastion.prompts.template import parse_template

        return cls(
            name=row.name,
            version=row.version,
            template=parse_template(row.template),
            spec=dict(row.template),
            sha256=row.sha256,
            description=row.description,
            created_by=row.created_by,
            created_at=row.created_at,
            created_by_key=row.created_by_key,
            aliases=tuple(sorted(aliases)),
        )


@dataclass(frozen=True, slots=True)
class PromptSummary:
    name: str
    description: str
    tenant: str | None
    latest_version: int | None
    aliases: dict[str, int]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Citation:
    """A chunk that filled a retrieval variable: ``[index]`` in the rendered context."""

    index: int
    document: str
    chunk: str
    score: float
    text: str

    def to_dict(self, *, text: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "index": self.index,
            "document": self.document,
            "chunk": self.chunk,
            "score": round(float(self.score), 6),
        }
        if text:
            out["text"] = self.text
        return out
