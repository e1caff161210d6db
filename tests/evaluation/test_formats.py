"""Eval set files: JSONL, CSV and Parquet rows, and errors that name the bad line/column."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bastion.errors import InvalidRequest
from bastion.evaluation.formats import format_of, parse_rows
from tests.evaluation.conftest import jsonl


def test_jsonl_rows_with_slices_and_slice_keys() -> None:
    content = jsonl(
        {"input": "bonjour", "expected": "greeting", "slices": {"lang": "fr", "len": 1}},
        {"input": {"a": 1}, "expected": 2.5, "slice.lang": "en"},
        {"input": "x", "expected": None},
    )
    rows = parse_rows(content, "jsonl")
    assert [r.input for r in rows] == ["bonjour", {"a": 1}, "x"]
    assert rows[0].slices == {"lang": "fr", "len": "1"}
    assert rows[1].slices == {"lang": "en"} and rows[1].expected == 2.5
    assert rows[2].slices == {} and rows[2].expected is None


def test_csv_with_feature_columns_and_slice_columns() -> None:
    content = b"input.age,input.city,expected,slice.lang\n41,Paris,yes,fr\n7,Oslo,no,\n"
    rows = parse_rows(content, "csv")
    assert rows[0].input == {"age": 41, "city": "Paris"} and rows[0].expected == "yes"
    assert rows[0].slices == {"lang": "fr"}
    assert rows[1].slices == {}  # an empty cell: no tag in that dimension


def test_csv_text_input_stays_text() -> None:
    rows = parse_rows(b'input,expected\n123,1\n"{""a"": 1}",0\n', "csv")
    assert rows[0].input == "123" and rows[0].expected == 1
    assert rows[1].input == {"a": 1}


def test_parquet_rows() -> None:
    table = pa.table({"input": ["hi", "yo"], "expected": ["a", "b"], "slice.lang": ["en", None]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    content = buffer.getvalue()
    assert format_of(None, content) == "parquet"
    rows = parse_rows(content, "parquet")
    assert [(r.input, r.expected, r.slices) for r in rows] == [
        ("hi", "a", {"lang": "en"}),
        ("yo", "b", {}),
    ]


def test_format_from_name_suffix_or_content() -> None:
    assert format_of("golden.CSV", b"") == "csv"
    assert format_of(None, b'{"input": 1}') == "jsonl"
    assert format_of(None, b"input,expected") == "csv"
    with pytest.raises(InvalidRequest, match="not an eval set format"):
        format_of(None, b"", "xlsx")


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (b"", "jsonl", "empty"),
        (b'{"input": 1, "expected": 2}\nnot json\n', "jsonl", "line 2: not valid JSON"),
        (b'{"input": 1, "expected": 2}\n[1]\n', "jsonl", "line 2: expected a JSON object"),
        (b'{"input": 1}\n', "jsonl", "line 1: 'expected' is missing"),
        (b'{"expected": 1}\n', "jsonl", "line 1: 'input' is missing"),
        (b'{"input": 1, "expected": 1, "expect": 2}\n', "jsonl", "unknown key 'expect'"),
        (b'{"input": 1, "expected": 1, "slices": [1]}\n', "jsonl", "'slices' must be an object"),
        (b'{"input": 1, "expected": 1, "slices": {"a": {}}}\n', "jsonl", "slice 'a'"),
        (b"text,expected\nhi,a\n", "csv", "no 'input' column"),
        (b"input,label\nhi,a\n", "csv", "no 'expected' column"),
        (b"input,expected\nhi,a\nyo,b,extra\n", "csv", "line 3: more cells"),
        (b"input,expected\n,a\n", "csv", "line 2: 'input' is missing or empty"),
        (b"PAR1garbage", "parquet", "not a readable Parquet file"),
        (b"\xff\xfe\x00bad", "csv", "not UTF-8"),
    ],
)
def test_bad_files_name_the_row_or_column(content: bytes, fmt: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_rows(content, fmt)  # type: ignore[arg-type]
