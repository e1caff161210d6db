"""docs/http.md lists every error type with the status the code answers it with."""

from __future__ import annotations

from pathlib import Path

import bastion.errors as errors

PAGE = Path(__file__).resolve().parents[2] / "docs" / "http.md"


def _tree(cls: type[errors.BastionError]) -> list[type[errors.BastionError]]:
    return [cls, *(sub for child in cls.__subclasses__() for sub in _tree(child))]


def test_every_error_type_is_documented_with_its_status() -> None:
    page = PAGE.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line for line in page.splitlines() if line.startswith("| `")
    }
    for cls in _tree(errors.BastionError):
        line = rows.get(f"`{cls.type}`")
        assert line is not None, f"docs/http.md has no row for {cls.type}"
        assert str(int(cls.status)) in line, (
            f"{cls.type}: docs/http.md does not say {int(cls.status)}"
        )
