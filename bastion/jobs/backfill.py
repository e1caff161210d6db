"""Backfills: history (the prediction log, or a file) re-run through another version.

The input rows are eval-set shaped: ``input``, ``answered`` (what was served then),
``expected`` (the label, where feedback brought one) and ``slices``. The job scores
``input`` with the pinned version, paced to ``rows_per_s`` so it never crowds live traffic;
``compare`` then reports agreement with what was answered and the accuracy delta where
labels arrived, overall and per slice, and ``eval_rows`` turns the result into an eval set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from bastion.jobs.outputs import JobFiles
from bastion.jobs.typed import output_values
from bastion.monitoring.predictions import PredictionLog
from bastion.store import Database
from bastion.store.monitoring_tables import FeedbackRow, PredictionRow

PAGE = 1000


async def export_log(
    log: PredictionLog,
    db: Database,
    deployment: str,
    since: datetime,
    until: datetime,
    tenant: str | None,
    path: Path,
) -> int:
    """Write the logged predictions of ``deployment`` in [since, until) with their inputs
    as backfill rows (page by page); returns how many were written."""
    written, after = 0, 0
    with path.open("wb") as out:
        while True:
            query = (
                select(PredictionRow, FeedbackRow.label_key)
                .outerjoin(
                    FeedbackRow,
                    (FeedbackRow.prediction_id == PredictionRow.id)
                    & FeedbackRow.superseded.is_(False),
                )
                .where(
                    PredictionRow.deployment == deployment,
                    PredictionRow.at >= since,
                    PredictionRow.at < until,
                    PredictionRow.id > after,
                    PredictionRow.input_logged.is_(True),
                )
                .order_by(PredictionRow.id)
                .limit(PAGE)
            )
            if tenant is not None:
                query = query.where(PredictionRow.tenant == tenant)
            async with db.session() as session:
                page = (await session.execute(query)).all()
            for row, label in page:
                payload = log.open(row)
                if payload.get("input") is None:
                    continue
                doc = {"input": payload["input"], "answered": payload.get("output"),
                       "answered_version": row.version, "slices": row.segments or {}}  # fmt: skip
                if label is not None:
                    doc["expected"] = label
                out.write(orjson.dumps(doc) + b"\n")
                written += 1
            if len(page) < PAGE:
                return written
            after = page[-1][0].id


def _label(output: Any) -> Any:
    """What two answers are compared on: a classifier's label, else the whole output."""
    if isinstance(output, Mapping) and "label" in output:
        return output["label"]
    return output


def _pairs(files: JobFiles) -> Iterator[tuple[dict[str, Any], Any]]:
    """Each input row with its new output (None for a refused row), in row order."""
    import pyarrow.parquet as pq

    outputs: dict[int, Any] = {}
    batches = pq.ParquetFile(files.output).iter_batches(batch_size=4096)
    with files.input.open("rb") as fh:
        row = -1
        for raw in fh:
            if not raw.strip():
                continue
            row += 1
            while row not in outputs and (batch := next(batches, None)) is not None:
                values = output_values(batch)  # typed columns or JSON text (jobs/typed.py)
                outputs.update(zip(batch.column("row").to_pylist(), values, strict=True))
            doc = orjson.loads(raw)
            yield (doc if isinstance(doc, dict) else {}), outputs.pop(row, None)


class _Tally:
    def __init__(self) -> None:
        self.rows = self.answered = self.agree = self.labelled = 0
        self.right_before = self.right_after = 0

    def add(self, doc: Mapping[str, Any], new: Any) -> None:
        self.rows += 1
        if new is None:
            return
        self.answered += 1
        self.agree += _label(new) == _label(doc.get("answered"))
        if "expected" in doc:
            self.labelled += 1
            self.right_before += _label(doc.get("answered")) == doc["expected"]
            self.right_after += _label(new) == doc["expected"]

    def view(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "answered": self.answered,
                               "agreement": self.agree / self.answered if self.answered else None,
                               "labelled": self.labelled}  # fmt: skip
        if self.labelled:
            before, after = self.right_before / self.labelled, self.right_after / self.labelled
            out.update(accuracy_before=before, accuracy_after=after, delta=after - before)
        return out


def compare(files: JobFiles) -> dict[str, Any]:
    """Agreement with what was answered, and accuracy where labelled: overall, per slice."""
    overall, slices = _Tally(), dict[str, _Tally]()
    for doc, new in _pairs(files):
        overall.add(doc, new)
        for tag, value in (doc.get("slices") or {}).items():
            slices.setdefault(f"{tag}={value}", _Tally()).add(doc, new)
    return {"overall": overall.view(), "slices": {k: t.view() for k, t in sorted(slices.items())}}


def eval_rows(files: JobFiles) -> bytes:
    """The backfill as an eval set: ``input``, ``expected`` (the label where one arrived,
    else what production answered), ``slices``."""
    lines = []
    for doc, _ in _pairs(files):
        expected = doc["expected"] if "expected" in doc else _label(doc.get("answered"))
        lines.append(orjson.dumps({"input": doc.get("input"), "expected": expected,
                                   "slices": doc.get("slices") or {}}))  # fmt: skip
    return b"\n".join(lines) + b"\n"
