"""bastion serve caps glibc's malloc arenas, unless MALLOC_ARENA_MAX says otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CODE = (
    "import os; from bastion.cli.malloc import limit_malloc_arenas; "
    "print(limit_malloc_arenas(), os.environ.get('MALLOC_ARENA_MAX'))"
)


def _run(env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-c", CODE], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_arenas_are_capped_and_children_inherit_the_cap() -> None:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    assert _run(env) == "True 2"


def test_an_explicit_setting_is_left_alone() -> None:
    assert _run({**os.environ, "MALLOC_ARENA_MAX": "4"}) == "False 4"
