"""Plain parameter values are converted without pydantic, exactly as Typer converts them;
what the light converter does not take (bad values) gets Typer's own message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer._coercion import resolve_type_descriptor
from typer.models import OptionInfo

from bastion.cli.plain import _convert

CASES = [
    (str, "abc"),
    (str, ""),
    (int, "12"),
    (int, "-3"),
    (int, 7),
    (float, "0.5"),
    (float, "1e-3"),
    (float, "-2"),
    (float, 3),
    (bool, True),
    (bool, "yes"),
    (bool, "Off"),
    (bool, "0"),
    (Path, "data/x.csv"),
    (Path, Path("/tmp")),
]


@pytest.mark.parametrize(("annotation", "value"), CASES)
def test_plain_values_convert_as_typer_does(annotation: Any, value: Any) -> None:
    from typer._adapters import try_build_adapter

    descriptor = resolve_type_descriptor(annotation, OptionInfo())
    adapter = try_build_adapter(descriptor.annotation, descriptor.parameter_info)
    assert adapter is not None
    expected = adapter.validate_python(value)
    got = _convert(annotation, value)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("annotation", "value"), [(int, "1.5"), (int, "x"), (float, "one"), (bool, "maybe")]
)
def test_what_it_does_not_take_goes_to_typer(annotation: Any, value: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        _convert(annotation, value)


def _run(*args: str) -> tuple[set[str], str]:
    code = (
        "import sys\nfrom bastion.cli.main import main\n"
        f"sys.argv = ['bastion', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("BASTION_")},
            "BASTION_URL": "http://127.0.0.1:9",
            "BASTION_KEY": "k",
        },
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("MODULES"))
    return set(line.split()[1:]), done.stdout + done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["models", "--help"],
        ["models", "list"],
        ["alerts", "list"],
        ["canary", "status", "d"],
        ["drift", "report", "d", "--windows", "2", "--json"],
    ],
)
def test_read_only_commands_do_not_import_pydantic(args: list[str]) -> None:
    loaded, _ = _run(*args)
    assert "pydantic" not in loaded


def test_a_bad_value_still_gets_typers_message() -> None:
    _, out = _run("drift", "report", "d", "--windows", "0")
    assert "Invalid value for '--windows'" in out and "greater than or equal to 1" in out


def test_the_cli_works_with_a_typer_lacking_the_internals_plain_uses() -> None:
    """``typer._coercion`` is private: a Typer without it leaves every value to Typer."""
    code = (
        "import sys, typer._coercion\n"
        "del typer._coercion.RuntimeParam  # as in a Typer before (or after) 0.29\n"
        "from typer.testing import CliRunner\n"
        "from bastion.cli.main import app\n"
        "out = CliRunner().invoke(app, ['models', 'list', '--help'])\n"
        "assert out.exit_code == 0 and '--url' in out.output, out.output\n"
        "assert 'bastion.cli.plain' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
