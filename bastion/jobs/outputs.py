"""A job's files on disk: per-chunk parts, then the output and error files, all atomic.

Every file is written under a temporary name, flushed to disk and renamed into place, so a
reader (or a resumed job) never finds a partial file under a final name. A chunk's part is
written before the ledger records the chunk; a part whose chunk the ledger does not hold is
simply written again. The output is assembled from the parts of the chunks the ledger holds,
in order: every row exactly once.

A part is an Arrow IPC file (uncompressed: LZ4 cost more CPU than the bytes it saved):
written once and read back without decoding, so each answer is encoded once, in the
output's own format, when the output is assembled (parts of a job started by an older
server, LZ4 IPC or Parquet, are still read). A chunk without refused rows writes no error
part (a stale one from an earlier run is removed).

The parts and the output have one of two layouts, fixed for the job: typed columns for a
classifier's Parquet output (``jobs/typed.py``, when ``classes`` is given), else the
answer as JSON text (``output``). Parquet dictionary-encodes only the string columns
that repeat (``verdict``, ``label``): on floats and row numbers it cost CPU for nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from bastion.jobs.entities import Answer, AnswerBlock, RowError
from bastion.jobs.typed import typed_schema, typed_table

OUTPUT_COLUMNS = ("row", "verdict", "output", "confidence")  # the JSON-text layout
_DICTIONARY = ["verdict", "label"]  # the columns Parquet dictionary-encodes


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("row", pa.int64()),
            ("verdict", pa.string()),
            ("output", pa.string()),
            ("confidence", pa.float64()),
        ]
    )


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """A temporary path beside ``final``; renamed onto it (after fsync) only on success."""
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class JobFiles:
    """The directory of one job: its input, its parts, its output and error files."""

    def __init__(
        self,
        root: Path,
        input_format: str,
        output_format: str,
        classes: list[str] | None = None,
    ) -> None:
        """``classes``: the typed layout of a classifier's Parquet output (else JSON text)."""
        self.root = root
        self.classes = classes if output_format == "parquet" and classes else None
        self.input = root / f"input.{input_format}"
        self.output = root / f"output.{output_format}"
        self.errors = root / "errors.jsonl"
        self.output_format = output_format
        self.parts = root / "parts"

    def part(self, chunk: int) -> Path:
        return self.parts / f"{chunk:08d}.arrow"

    def _legacy_part(self, chunk: int) -> Path:
        return self.parts / f"{chunk:08d}.parquet"

    def part_errors(self, chunk: int) -> Path:
        return self.parts / f"{chunk:08d}.errors.jsonl"

    def write_part(
        self,
        chunk: int,
        answers: list[Answer],
        errors: list[RowError],
        blocks: Sequence[AnswerBlock] = (),
    ) -> None:
        """Write one chunk's answers (rows and columnar blocks, in row order) and errors
        (atomically, each)."""
        import pyarrow as pa
        from pyarrow import ipc

        self.parts.mkdir(parents=True, exist_ok=True)
        table = answer_table(answers, blocks, self.classes)
        options = ipc.IpcWriteOptions(compression=None)
        with (
            atomic_path(self.part(chunk)) as tmp,
            pa.OSFile(str(tmp), "wb") as sink,
            ipc.new_file(sink, table.schema, options=options) as w,
        ):
            w.write_table(table)
        if errors:
            with atomic_path(self.part_errors(chunk)) as tmp:
                tmp.write_bytes(b"".join(_error_line(e) for e in errors))
        else:  # no error part means none; one left by an earlier run of the chunk goes
            self.part_errors(chunk).unlink(missing_ok=True)

    def read_part(self, chunk: int) -> Any:
        """One recorded chunk's answers (an Arrow table)."""
        import pyarrow as pa
        from pyarrow import ipc

        path = self.part(chunk)
        if not path.exists() and self._legacy_part(chunk).exists():
            import pyarrow.parquet as pq

            return pq.read_table(self._legacy_part(chunk))
        with pa.memory_map(str(path)) as source:
            return ipc.open_file(source).read_all()

    def assemble(self, chunks: Iterable[int]) -> None:
        """Write the output and the error file from the given chunks' parts, in order."""
        chunks = sorted(chunks)
        with atomic_path(self.output) as tmp:
            schema = typed_schema(self.classes) if self.classes else _schema()
            writer = _writer(self.output_format, tmp, schema)
            try:
                for chunk in chunks:
                    writer.write(self.read_part(chunk))
            finally:
                writer.close()
        with atomic_path(self.errors) as tmp, tmp.open("wb") as out:
            for chunk in chunks:
                with contextlib.suppress(FileNotFoundError):  # no refused rows
                    out.write(self.part_errors(chunk).read_bytes())

    def remove_parts(self) -> None:
        if self.parts.is_dir():
            for path in self.parts.iterdir():
                path.unlink()
            self.parts.rmdir()


def answer_table(
    answers: list[Answer], blocks: Sequence[AnswerBlock] = (), classes: list[str] | None = None
) -> Any:
    """The part table: one ``ok`` row per answer, ascending by row; typed columns when
    ``classes`` are given, else each answer as JSON text."""
    import numpy as np
    import pyarrow as pa

    ordered = sorted(blocks, key=lambda b: int(b.rows[0]) if len(b.rows) else -1)
    if classes:
        table = typed_table(answers, ordered, classes)
    else:
        rows = [np.fromiter((a.row for a in answers), np.int64, len(answers))]
        outputs = [pa.array([orjson.dumps(a.output).decode() for a in answers], pa.string())]
        confidence: list[Any] = [pa.array([a.confidence for a in answers], pa.float64())]
        for block in ordered:
            rows.append(np.asarray(block.rows, dtype=np.int64))
            outputs.append(block.answers.json_outputs())
            confidence.append(pa.array(block.answers.probability, pa.float64()))
        every = np.concatenate(rows)
        table = pa.table(
            {
                "row": pa.array(every),
                "verdict": pa.repeat(pa.scalar("ok"), len(every)),
                "output": pa.concat_arrays(outputs),
                "confidence": pa.concat_arrays(confidence),
            },
            schema=_schema(),
        )
    every = table.column("row").to_numpy()
    if bool((every[1:] >= every[:-1]).all()):  # already in order (blocks in row order)
        return table
    return table.take(pa.array(np.argsort(every, kind="stable")))


def _error_line(error: RowError) -> bytes:
    doc: dict[str, Any] = {"row": error.row, "code": error.code, "message": error.message}
    if error.rule is not None:
        doc["rule"] = error.rule
    return orjson.dumps(doc) + b"\n"


class _Writer:
    def write(self, table: Any) -> None: ...

    def close(self) -> None: ...


class _ParquetWriter(_Writer):
    def __init__(self, path: Path, schema: Any) -> None:
        import pyarrow.parquet as pq

        used = [c for c in _DICTIONARY if c in schema.names]
        self._writer = pq.ParquetWriter(path, schema, use_dictionary=used)

    def write(self, table: Any) -> None:
        self._writer.write_table(table)

    def close(self) -> None:
        self._writer.close()


class _TextWriter(_Writer):
    """JSONL (the output decoded back to JSON) or CSV (the output as JSON text)."""

    def __init__(self, path: Path, fmt: str) -> None:
        self._fh: IO[bytes] = path.open("wb")
        self._csv = fmt == "csv"
        if self._csv:
            self._fh.write(b"row,verdict,output,confidence\n")

    def write(self, table: Any) -> None:
        for rec in table.to_pylist():
            if self._csv:
                self._fh.write(_csv_line(rec))
            else:
                rec["output"] = orjson.Fragment(rec["output"])
                self._fh.write(orjson.dumps(rec) + b"\n")

    def close(self) -> None:
        self._fh.close()


def _csv_line(rec: dict[str, Any]) -> bytes:
    text = str(rec["output"]).replace('"', '""')
    conf = "" if rec["confidence"] is None else repr(rec["confidence"])
    return f'{rec["row"]},{rec["verdict"]},"{text}",{conf}\n'.encode()


def _writer(fmt: str, path: Path, schema: Any) -> _Writer:
    return _ParquetWriter(path, schema) if fmt == "parquet" else _TextWriter(path, fmt)
