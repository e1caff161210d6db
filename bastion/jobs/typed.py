"""Typed output columns: a classifier job's answers as Arrow columns, not JSON text.

A job whose output is Parquet and whose deployment declares a classifier's output contract
(``contracts/classifier.py``: ``{label, class_id, probability, probabilities}``) writes
each answer as typed columns instead of one JSON text per row:

==================  ==================================  =================================
column              Arrow type                          the online answer's
==================  ==================================  =================================
``row``             int64                               (the input row)
``verdict``         string (``ok``)                     —
``label``           string                              ``label``
``class_id``        int64                               ``class_id``
``probability``     float64                             ``probability``
``probabilities``   struct<one float64 per class>       ``probabilities`` (same order)
``confidence``      float64                             the answer's confidence
``output``          string (JSON), null                 an answer that is not the
                                                        classifier's (e.g. a fallback's)
==================  ==================================  =================================

The classes are read from the contract when the job is created and stored on the job
(``options["output_classes"]``), so a resumed job and either engine write the same schema.
Values are the online answer's exactly: the same float64s, nothing rounded. CSV and JSONL
outputs, and Parquet outputs of any other deployment, keep the JSON ``output`` text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

import numpy as np
import orjson

from bastion.contracts.classifier import classifier_schema
from bastion.errors import BastionError
from bastion.jobs.columnar import PlannedJob
from bastion.jobs.entities import Answer, AnswerBlock
from bastion.routing import DeploymentManager

_IGNORED = frozenset({"$schema", "title", "description"})
_KEYS = frozenset({"label", "class_id", "probability", "probabilities"})
# (job) → the classes of its typed output, or None for the JSON text
OutputPlan = Callable[[PlannedJob], list[str] | None]


def classifier_classes(schema: Mapping[str, Any] | None) -> list[str] | None:
    """The classes of an output contract that is exactly a classifier's, else None."""
    if not isinstance(schema, Mapping):
        return None
    bare = {k: v for k, v in schema.items() if k not in _IGNORED}
    label = (bare.get("properties") or {}).get("label") or {}
    classes = label.get("enum") if isinstance(label, Mapping) else None
    if not isinstance(classes, list) or not all(isinstance(c, str) for c in classes):
        return None
    if not classes or len(set(classes)) != len(classes):
        return None
    return list(classes) if bare == classifier_schema(classes) else None


def output_plan(deployments: DeploymentManager, gateway: Container[str]) -> OutputPlan:
    """A server's plan: the live version's classifier classes (the version the job runs)."""

    def plan(job: PlannedJob) -> list[str] | None:
        if job.deployment in gateway:
            return None
        with contextlib.suppress(BastionError):
            loaded = deployments.get(job.deployment).live()
            if job.version is None or job.version == loaded.version:
                return classifier_classes(loaded.contract.output_schema)
        return None

    return plan


def typed_schema(classes: Sequence[str]) -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("row", pa.int64()),
            ("verdict", pa.string()),
            ("label", pa.string()),
            ("class_id", pa.int64()),
            ("probability", pa.float64()),
            ("probabilities", pa.struct([(c, pa.float64()) for c in classes])),
            ("confidence", pa.float64()),
            ("output", pa.string()),
        ]
    )


def typed_table(answers: list[Answer], blocks: Sequence[AnswerBlock], classes: list[str]) -> Any:
    """One chunk's answers as typed columns, in the order given (rows, then blocks)."""
    import pyarrow as pa

    schema = typed_schema(classes)
    parts = [_answers_table(answers, classes, schema)] if answers else []
    parts += [_block_table(b, classes, schema) for b in blocks]
    if not parts:
        return schema.empty_table()
    return pa.concat_tables(parts)


def _block_table(block: AnswerBlock, classes: list[str], schema: Any) -> Any:
    """A columnar block (``ClassifierColumns``): C-level passes, no value per row."""
    import pyarrow as pa

    cols = block.answers
    if list(cols.classes) != classes:  # another version's classes: the rows' own answers
        return _answers_table(
            [Answer(int(r), p.output, p.confidence) for r, p in zip(block.rows, cols, strict=True)],
            classes,
            schema,
        )
    n = len(cols)
    matrix = np.ascontiguousarray(cols.probabilities.T)  # one contiguous row per class
    probability = pa.array(cols.probability, pa.float64())
    arrays = [
        pa.array(np.asarray(block.rows, dtype=np.int64)),
        pa.repeat(pa.scalar("ok"), n),
        pa.array(classes, pa.string()).take(pa.array(cols.class_id)),
        pa.array(np.asarray(cols.class_id, dtype=np.int64)),
        probability,
        pa.StructArray.from_arrays([pa.array(m) for m in matrix], fields=list(schema[5].type)),
        probability,
        pa.nulls(n, pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _answers_table(answers: list[Answer], classes: list[str], schema: Any) -> Any:
    """Row-path answers: each a classifier's answer (typed) or any other JSON (``output``)."""
    import pyarrow as pa

    label, class_id, probability, text = [], [], [], []
    probabilities: list[list[float | None]] = [[] for _ in classes]
    for answer in answers:
        fits = _fits(answer.output, classes)
        out = answer.output if fits else {}
        label.append(out.get("label"))
        class_id.append(out.get("class_id"))
        probability.append(out.get("probability"))
        for column, name in zip(probabilities, classes, strict=True):
            column.append(out["probabilities"][name] if fits else None)
        text.append(None if fits else orjson.dumps(answer.output).decode())
    struct = pa.StructArray.from_arrays(
        [pa.array(c, pa.float64()) for c in probabilities],
        fields=list(schema[5].type),
        mask=pa.array([t is not None for t in text]),
    )
    arrays = [
        pa.array([a.row for a in answers], pa.int64()),
        pa.repeat(pa.scalar("ok"), len(answers)),
        pa.array(label, pa.string()),
        pa.array(class_id, pa.int64()),
        pa.array(probability, pa.float64()),
        struct,
        pa.array([a.confidence for a in answers], pa.float64()),
        pa.array(text, pa.string()),
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _fits(output: Any, classes: list[str]) -> bool:
    """Whether ``output`` is a classifier's answer over ``classes`` (typed columns hold it)."""
    if not isinstance(output, dict) or output.keys() != _KEYS:
        return False
    probs, cid = output["probabilities"], output["class_id"]
    return (
        isinstance(probs, dict)
        and len(probs) == len(classes)
        and probs.keys() == set(classes)
        and all(_number(v) for v in probs.values())
        and _number(output["probability"])
        and isinstance(cid, int)
        and not isinstance(cid, bool)
        and 0 <= cid < len(classes)
        and output["label"] == classes[cid]
    )


def _number(value: Any) -> bool:
    return isinstance(value, float | int) and not isinstance(value, bool)


def output_values(table: Any) -> list[Any]:
    """Each output row's answer as the online API gives it, from either layout (for
    readers: the backfill report, tests)."""
    names = table.column_names
    if "label" not in names:
        return [orjson.loads(t) for t in table.column("output").to_pylist()]
    out: list[Any] = []
    for rec in table.select(
        ["label", "class_id", "probability", "probabilities", "output"]
    ).to_pylist():
        text = rec.pop("output")
        out.append(orjson.loads(text) if text is not None else rec)
    return out
