"""`bastion guards eval pii`: per type, per language, and latency by text length."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bastion.cli.main import app

runner = CliRunner()


def test_pii_report_has_types_languages_and_latency_by_length(tmp_path: Path) -> None:
    rows = [
        _row("en", "Mail ", "email", "ann@example.com"),
        _row("de", "Geburtsdatum: ", "dob", "01.02.1990"),
        _row("zh", "地址：", "address", "北京市朝阳区建国路88号"),
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    done = runner.invoke(app, ["guards", "eval", "pii", str(path)])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    by_type = {line.split()[0]: line.split() for line in lines if line[:1].isalpha()}
    assert by_type["email"][1:4] == ["1.000", "1.000", "1.000"]
    assert by_type["address"][1:4] == ["1.000", "1.000", "1.000"]
    assert {"de", "en", "zh"} <= set(by_type)  # one row per language
    assert by_type["zh"][1:3] == ["1.000", "1.000"]
    lengths = [line.split()[0] for line in lines if line.strip()[:1].isdigit()]
    assert lengths == ["100", "500", "2000", "8000"]


def _row(lang: str, before: str, kind: str, value: str) -> dict[str, object]:
    span = {"type": kind, "start": len(before), "end": len(before) + len(value)}
    return {"text": before + value, "entities": [span], "lang": lang}
