"""The CLI starts at once: `bastion.cli.main` imports no heavy module, and each sub-command
group is imported only when used (its help line kept beside its path matches its own)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bastion.cli.lazy import help_of, target_of
from bastion.cli.main import BastionGroup, app

HEAVY = ("numpy", "sqlalchemy", "onnxruntime", "fastapi", "httpx", "bastion.settings", "rich")


def _imported_by(code: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def test_importing_the_cli_imports_nothing_heavy() -> None:
    loaded = _imported_by("import bastion.cli.main")
    assert not {m for m in HEAVY if m in loaded}
    assert not {m for m in loaded if m.startswith("bastion.cli.") and m.count(".") == 2} - {
        "bastion.cli.main",
        "bastion.cli.common",
        "bastion.cli.lazy",
        "bastion.cli.plain",
    }


@pytest.mark.parametrize("group", sorted(BastionGroup.LAZY))
def test_a_group_imports_nothing_heavy_until_a_command_runs(group: str) -> None:
    module = BastionGroup.LAZY[group].target.partition(":")[0]
    loaded = _imported_by(f"import {module}")
    assert not {
        m for m in ("numpy", "sqlalchemy", "onnxruntime", "fastapi", "httpx") if m in loaded
    }


@pytest.mark.parametrize("group", sorted(BastionGroup.LAZY))
def test_the_listed_help_is_the_groups_own(group: str) -> None:
    lazy = BastionGroup.LAZY[group]
    assert help_of(target_of(lazy)) == lazy.help


def test_help_lists_every_group_and_a_group_runs() -> None:
    runner = CliRunner()
    top = runner.invoke(app, ["--help"])
    assert top.exit_code == 0
    for group in (*BastionGroup.LAZY, "serve", "db"):
        assert f"\n  {group} " in top.output
    shadow = runner.invoke(app, ["shadow", "--help"])
    assert shadow.exit_code == 0 and "report" in shadow.output
