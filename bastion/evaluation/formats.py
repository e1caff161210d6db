"""Eval set files: JSONL, CSV and Parquet rows of ``input``, ``expected`` and slice tags,
parsed and validated at once, with errors that name the bad line or column.

Keys (JSONL) or columns (CSV, Parquet):

- ``input`` — the model's input; or ``input.NAME`` columns, which make an object input
- ``expected`` — the expected output (a label, a number, a regex, any JSON)
- ``slices`` — an object of tag → value; or ``slice.NAME`` columns / keys
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from bastion.errors import InvalidRequest
from bastion.evaluation.entities import EvalRow

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[Format, ...] = ("jsonl", "csv", "parquet")
_SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_ALLOWED = "input (or input.NAME), expected, slices (or slice.NAME)"
MAX_DEPTH = 64  # nesting levels of one row's JSON (deeper is refused, 422)
MAX_FIELD = csv.field_size_limit()  # characters in one CSV cell (the csv module's own bound)


def _loads(text: str) -> Any:
    """``json.loads`` that answers nesting beyond ``MAX_DEPTH`` as InvalidRequest, not a
    RecursionError: rows nested deeper are refused before they are parsed."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return json.loads(text)  # cannot nest deeper: skip the scan (the common case)
    depth = deepest = 0
    quoted = escaped = False
    for ch in text:  # a bracket count outside strings bounds the parser's recursion
        if quoted:
            escaped, quoted = (False, True) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            quoted = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                raise InvalidRequest(f"JSON nested deeper than {MAX_DEPTH} levels")
        elif ch in "]}":
            depth -= 1
    return json.loads(text)


def format_of(filename: str | None, content: bytes, given: str | None = None) -> Format:
    """The format named, else the file's suffix, else sniffed (Parquet's magic, JSON's '{')."""
    if given:
        if given not in FORMATS:
            raise InvalidRequest(
                f"format: {given!r} is not an eval set format; use one of {', '.join(FORMATS)}",
                details={"field": "format"},
            )
        return given
    if filename:
        for suffix, fmt in _SUFFIXES.items():
            if filename.lower().endswith(suffix):
                return fmt
    if content[:4] == b"PAR1":
        return "parquet"
    return "jsonl" if content.lstrip()[:1] == b"{" else "csv"


def parse_rows(content: bytes, fmt: Format) -> list[EvalRow]:
    """Every row of the file, or InvalidRequest naming the first bad line/row and why."""
    if not content.strip():
        raise InvalidRequest("the eval set is empty; it needs at least one row")
    if fmt == "parquet":
        records = _parquet(content)
        where = "row"
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"the eval set is not UTF-8 text: {exc}") from exc
        records = _jsonl(text) if fmt == "jsonl" else _csv(text)
        where = "line"
    rows = [_row(record, f"{where} {number}") for number, record in records]
    if not rows:
        raise InvalidRequest("the eval set has no rows; it needs at least one")
    return rows


def _jsonl(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = _loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidRequest(f"line {number}: not valid JSON ({exc.msg})") from exc
        except InvalidRequest as exc:
            raise InvalidRequest(f"line {number}: {exc.message}") from exc
        if not isinstance(value, dict):
            raise InvalidRequest(f"line {number}: expected a JSON object with {_ALLOWED}")
        yield number, value


def _cell(text: str) -> Any:
    """A CSV cell: JSON when it parses (numbers, true, null, objects), else the string."""
    try:
        return _loads(text)
    except (json.JSONDecodeError, InvalidRequest):
        return text


def _csv(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        yield from _csv_rows(text)
    except csv.Error as exc:  # e.g. a cell over MAX_FIELD characters, a NUL byte
        raise InvalidRequest(
            f"the eval set is not readable CSV ({exc}); cells hold at most {MAX_FIELD} "
            "characters: put long inputs in a JSONL or Parquet set"
        ) from exc


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    _check_columns(header)
    for record in reader:
        number = reader.line_num
        if None in record:
            raise InvalidRequest(f"line {number}: more cells than the header's {len(header)}")
        out: dict[str, Any] = {}
        for column, raw in record.items():
            if raw is None:
                raise InvalidRequest(f"line {number}: column {column!r} is missing")
            if column == "input":  # text stays text unless it is a JSON object or array
                out[column] = _cell(raw) if raw.lstrip()[:1] in ("{", "[") else raw
            elif column.startswith("slice."):
                out[column] = raw
            else:
                out[column] = _cell(raw)
        yield number, out


def _parquet(content: bytes) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow as pa  # type: ignore[import-untyped,import-not-found,unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]

    try:
        table = pq.read_table(io.BytesIO(content))
    except (pa.ArrowException, OSError) as exc:
        raise InvalidRequest(f"the eval set is not a readable Parquet file: {exc}") from exc
    _check_columns(table.column_names)
    yield from enumerate(table.to_pylist(), start=1)


def _check_columns(columns: Sequence[str]) -> None:
    names = set(columns)
    if "input" not in names and not any(c.startswith("input.") for c in names):
        raise InvalidRequest(
            f"the eval set has no 'input' column (columns: {', '.join(columns) or 'none'})"
        )
    if "expected" not in names:
        raise InvalidRequest(
            f"the eval set has no 'expected' column (columns: {', '.join(columns) or 'none'})"
        )


def _row(record: Mapping[str, Any], where: str) -> EvalRow:
    features: dict[str, Any] = {}
    slices: dict[str, str] = {}
    for key, value in record.items():
        if key.startswith("input."):
            features[key.removeprefix("input.")] = value
        elif key.startswith("slice."):
            if value not in (None, ""):  # an empty cell: the row has no tag in this dimension
                slices[key.removeprefix("slice.")] = _tag(value, f"{where}: column {key!r}")
        elif key == "slices":
            slices.update(_slices(value, where))
        elif key not in ("input", "expected"):
            raise InvalidRequest(f"{where}: unknown key {key!r}; allowed: {_ALLOWED}")
    if "input" in record and features:
        raise InvalidRequest(f"{where}: give 'input' or 'input.NAME' columns, not both")
    value = features or record.get("input")
    if value is None or value == "":
        raise InvalidRequest(f"{where}: 'input' is missing or empty")
    if "expected" not in record:
        raise InvalidRequest(f"{where}: 'expected' is missing")
    return EvalRow(input=value, expected=record["expected"], slices=slices)


def _slices(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(
            f'{where}: \'slices\' must be an object of tag → value, e.g. {{"lang": "fr"}}'
        )
    return {
        str(k): _tag(v, f"{where}: slice {k!r}") for k, v in value.items() if v not in (None, "")
    }


def _tag(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        text = str(value)
        if not text or len(text) > 100:
            raise InvalidRequest(f"{where}: a slice value must have 1 to 100 characters")
        return text
    raise InvalidRequest(f"{where}: a slice value must be a string or a number, not {value!r}")
