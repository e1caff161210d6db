"""What a job is and what one chunk of it produced: frozen values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Status = Literal["queued", "running", "succeeded", "failed", "cancelled"]
FINISHED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
FORMATS = ("csv", "jsonl", "parquet")
ENGINES = ("local", "ray")


@dataclass(frozen=True, slots=True)
class Job:
    """One job as stored. ``rows_done`` counts answered and refused rows alike."""

    id: str
    tenant: str | None
    key_id: str
    created_by: str
    kind: str
    deployment: str
    version: int | None
    engine: str
    status: str
    input_format: str
    output_format: str
    filename: str
    chunk_rows: int
    rows_total: int | None
    rows_done: int
    rows_failed: int
    cost_micros: int
    options: dict[str, Any]
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def view(self) -> dict[str, Any]:
        """The job as the admin API shows it (progress included)."""
        return {
            "id": self.id,
            "tenant": self.tenant,
            "kind": self.kind,
            "deployment": self.deployment,
            "version": self.version,
            "engine": self.engine,
            "status": self.status,
            "input_format": self.input_format,
            "output_format": self.output_format,
            "filename": self.filename,
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "rows_failed": self.rows_failed,
            "cost_usd": self.cost_micros / 1_000_000,
            "error": self.error,
            "cancel_requested": self.cancel_requested,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that got no answer: its index in the input, a stable reason code, a message."""

    row: int
    code: str
    message: str
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """A row's answer: the model's output (any JSON value) and its confidence."""

    row: int
    output: Any
    confidence: float | None


@dataclass(frozen=True, slots=True)
class AnswerBlock:
    """Answers of the columnar path: row numbers (ascending) and a classifier's answers to
    them as columns (``backends.columns.ClassifierColumns``), of one length. They become
    typed output columns (``jobs/typed.py``) or JSON text when the part is written."""

    rows: Any  # numpy int64
    answers: Any  # ClassifierColumns


@dataclass(frozen=True, slots=True)
class Chunk:
    """Rows ``first_row`` … of the input, parsed: a value per row, or the row's parse error.

    A chunk read as columns (a Parquet file) holds its rows as an Arrow ``table`` instead
    of ``values``; ``row_values`` gives them as values either way.
    """

    index: int
    first_row: int
    values: list[Any]
    errors: dict[int, RowError] = field(default_factory=dict)
    table: Any = None  # a pyarrow.Table of exactly ``rows`` rows, or None

    @property
    def rows(self) -> int:
        return len(self.values) if self.table is None else int(self.table.num_rows)

    def row_values(self) -> list[Any]:
        return self.values if self.table is None else list(self.table.to_pylist())


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """What scoring one chunk produced, before it is made durable."""

    chunk: Chunk
    answers: list[Answer]
    errors: list[RowError]
    cost_micros: int
    blocks: list[AnswerBlock] = field(default_factory=list)
