"""Corrections as training data: decided items as JSON Lines or Parquet, ready to retrain on."""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

import orjson

from bastion.errors import ConfigError
from bastion.review.entities import ReviewItem

ExportFormat = Literal["jsonl", "parquet"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "parquet")
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}
# Values that are JSON of any shape; Parquet holds them as JSON text.
JSON_FIELDS = ("input", "model_output", "final_output")


def record(item: ReviewItem, payload: dict[str, Any], final_output: Any) -> dict[str, Any]:
    """One training example: what went in, what the model said, what the human decided."""
    return {
        "review_id": item.id,
        "source": item.source,
        "request_id": item.request_id,
        "index": item.index,
        "deployment": item.deployment,
        "model": item.model,
        "model_version": item.version,
        "tenant": item.tenant,
        "triggers": list(item.triggers),
        "input": payload.get("input"),
        "model_output": payload.get("model_output"),
        "model_confidence": item.confidence,
        "decision": item.status,
        "final_output": final_output,
        "reviewer": item.decided_by,
        "reason": item.reason,
        "queued_at": _iso(item.created_at),
        "decided_at": _iso(item.decided_at),
        "pii_scrubbed": not item.encrypted,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def to_jsonl(records: Iterable[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY) + b"\n" for r in records)


def to_parquet(records: list[dict[str, Any]]) -> bytes:
    """A Parquet file; ``input``, ``model_output`` and ``final_output`` are JSON text."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise ConfigError(
            "Parquet export needs pyarrow on the server: pip install pyarrow "
            "(or export --format jsonl)"
        ) from exc
    schema = pa.schema(
        [
            ("review_id", pa.string()),
            ("source", pa.string()),
            ("request_id", pa.string()),
            ("index", pa.int64()),
            ("deployment", pa.string()),
            ("model", pa.string()),
            ("model_version", pa.int64()),
            ("tenant", pa.string()),
            ("triggers", pa.list_(pa.string())),
            ("input", pa.string()),
            ("model_output", pa.string()),
            ("model_confidence", pa.float64()),
            ("decision", pa.string()),
            ("final_output", pa.string()),
            ("reviewer", pa.string()),
            ("reason", pa.string()),
            ("queued_at", pa.timestamp("us", tz="UTC")),
            ("decided_at", pa.timestamp("us", tz="UTC")),
            ("pii_scrubbed", pa.bool_()),
        ]
    )
    columns: dict[str, list[Any]] = {name: [] for name in schema.names}
    for r in records:
        for name in schema.names:
            value = r[name]
            if name in JSON_FIELDS:
                value = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
            elif name in ("queued_at", "decided_at") and value is not None:
                value = datetime.fromisoformat(value)
            columns[name].append(value)
    table = pa.table(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
