"""Every Python example of the README and docs/ is valid Python whose imports resolve.

The examples are fragments (they use names such as ``services`` or ``settings_dict`` that a
reader's program has), so they are compiled, not run; every ``import`` they make is run, so
that a renamed or moved name fails here rather than in a reader's editor. Examples that are
complete programs run elsewhere: tests/backends/test_python_doc.py (docs/python-models.md)
and tests/e2e/test_doc_commands_run.py (docs/guards.md, docs/audit.md's check of an export).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SNIPPETS = [
    pytest.param(block, id=f"{page.relative_to(ROOT)}#{i}")
    for page in PAGES
    for i, block in enumerate(
        re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)
    )
]


def test_the_pages_hold_python_examples() -> None:
    assert len(SNIPPETS) >= 10


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_a_documented_python_example_compiles_and_imports(snippet: str) -> None:
    tree = compile(snippet, "<doc>", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"
                ), f"`from {node.module} import {alias.name}`: no such name"
