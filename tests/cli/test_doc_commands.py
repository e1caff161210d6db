"""Every `bastion …` command of the README and docs/ is one the CLI accepts as written.

Each documented line is parsed by the real command tree (every sub-command, argument and
option, with its types), without running it. A synopsis line (``bastion review list
[--deployment D] [--json]``) is checked with every optional part included and the first of
each ``a|b`` choice; an upper-case placeholder stands for a value (``ID`` → ``1``, ``DIR`` → a
directory); a file the line names is created empty in a scratch directory, since the parser
checks that it exists. Every line also runs for real, in page order against a demo server, in
tests/e2e/test_doc_commands_run.py; this fast check names the line that no longer parses.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from bastion.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL = ("", "bash", "sh", "shell", "console")
PREFIXES = (".venv/bin/bastion ", "$B ", '"$B" ')
PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(:[A-Z][A-Z0-9_]*)?…?$")


def _lines(block: str) -> Iterator[str]:
    for raw in block.replace("\\\n", " ").splitlines():
        for part in raw.split(";"):
            line = part.strip().removeprefix("$ ")
            line = re.sub(r"^(\w+=\S+\s+)+", "", line)  # VAR=value bastion …
            for prefix in PREFIXES:
                if line.startswith(prefix):
                    line = "bastion " + line.removeprefix(prefix)
            if line.startswith("bastion "):
                line = re.sub(r"\[([^\[\]|]*?)\s+\|\s+[^\[\]]*\]", r"[\1]", line)  # [a | b]
                yield re.split(r"\s+(?:#|\||&&|>)\s", line)[0].strip()


def _documented() -> Iterator[tuple[str, str]]:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for lang, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
            if lang in SHELL:
                for line in _lines(block):
                    yield f"{page.relative_to(ROOT)}: {line}", line


COMMANDS = [pytest.param(line, id=where) for where, line in _documented()]


def _expand(line: str) -> str:
    """A synopsis with every optional part in and the first of each choice."""
    line = re.sub(r"\[([^\[\]]*)\]", r"\1", line)
    return re.sub(r"(\S+?)\|\S+", r"\1", line)


def _argument(token: str, scratch: Path) -> str:
    """The token as the parser should see it, creating the file or directory it names."""
    if token.startswith("-") or "=" in token or "://" in token or token.startswith("$"):
        return token
    if PLACEHOLDER.match(token):
        if token.endswith("DIR"):
            (scratch / "dir").mkdir(exist_ok=True)
            return str(scratch / "dir")
        (scratch / "1").touch()
        return "1" if ":" not in token else "1:ab"
    if "/" in token or re.search(r"\.[a-z]{2,8}$", token):
        path = scratch / token.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if "." in path.name:
            path.touch()
        else:
            path.mkdir(exist_ok=True)
        return str(path)
    return token


def _parse(command: Any, args: list[str], parent: Any = None) -> None:
    ctx = command.make_context(command.name or "bastion", list(args), parent=parent)
    if isinstance(command, TyperGroup):
        rest = [*ctx._protected_args, *ctx.args]
        if rest:
            _, sub, more = command.resolve_command(ctx, rest)
            assert sub is not None
            _parse(sub, more, ctx)


def test_the_pages_document_commands() -> None:
    assert len(COMMANDS) > 50  # the extraction itself works


@pytest.mark.parametrize("line", COMMANDS)
def test_a_documented_command_parses(
    line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tokens = shlex.split(_expand(line))[1:]
    args = [_argument(t, tmp_path) for t in tokens]
    try:
        _parse(typer.main.get_command(app), args)
    except Exception as exc:  # a click usage error: the page and the CLI disagree
        pytest.fail(f"{line!r} does not parse: {type(exc).__name__}: {exc}")


def test_a_wrong_command_fails_the_check(tmp_path: Path) -> None:
    root = typer.main.get_command(app)
    for wrong in (["models", "list", "--no-such-option"], ["modles", "list"], ["models"] * 2):
        with pytest.raises(Exception, match=r"No such|Got unexpected"):
            _parse(root, wrong)
