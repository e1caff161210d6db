"""The shell commands of a documentation page, in page order, as a reader would type them.

A page's fenced shell blocks (```bash, ```sh, ```console or a bare ```) are read top to
bottom. A line is a command when it starts with a command word (``bastion``, ``curl``,
``$B``, ``export``, ``make`` …) or is a shell assignment (``B=.venv/bin/bastion``); a
diagram, a sample answer or a comment is not. Backslash continuations are joined.

A synopsis line (one with ``[optional parts]``) runs in its shortest form: every bracketed
part dropped, the first of each ``a|b`` choice kept. An upper-case placeholder (``ID``,
``DEPLOYMENT``) takes its value from the page's fixture map (tests/e2e/doc_pages.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SHELL = ("", "bash", "sh", "shell", "console")
WORDS = (
    "bastion",
    "curl",
    "$B",
    '"$B"',
    ".venv/bin/bastion",
    "export",
    "make",
    "docker",
    "docker-compose",
)
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
PLACEHOLDER = re.compile(r"^([A-Z][A-Z0-9_]*)(…?)$")
VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # curl -X POST: not a placeholder
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclass(frozen=True)
class Command:
    """One documented line: where it is, what it says, and whether it only sets variables."""

    page: str
    line: int
    text: str  # as documented (continuations joined)

    @property
    def assigns(self) -> bool:
        """An assignment or ``export`` line: it sets up the lines after it."""
        head = _unquoted(self.text).split(";")[0]
        return self.text.startswith("export ") or bool(
            ASSIGNMENT.match(self.text) and " " not in head
        )

    @property
    def bare(self) -> str:
        """The line without its trailing comment, spaces collapsed (what a skip names)."""
        cut = re.search(r"\s#\s", _unquoted(self.text))
        text = _cut(self.text, cut.start()) if cut else self.text
        return " ".join(text.split())

    @property
    def synopsis(self) -> bool:
        return bool(re.search(r"\s\[[^\]]*\]", _unquoted(self.text)))


def _unquoted(text: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", text)


def _cut(text: str, at_unquoted: int) -> str:
    """``text`` up to the position ``at_unquoted`` of its _unquoted form."""
    kept, seen, quote = [], 0, ""
    for char in text:
        if seen >= at_unquoted and not quote:
            break
        kept.append(char)
        if quote:
            if char == quote:
                quote = ""
                seen += 2  # a quoted run counts as its two quotes in _unquoted
            continue
        if char in "'\"":
            quote = char
            continue
        seen += 1
    return "".join(kept)


def _is_command(line: str) -> bool:
    rest = re.sub(r"^([A-Za-z_][A-Za-z0-9_]*=(\S*\$\([^)]*\)\S*|\S+)\s+)+", "", line)
    first = rest.split(" ", 1)[0]
    head = _unquoted(line).split(";")[0]
    return first in WORDS or bool(ASSIGNMENT.match(line) and " " not in head)


def commands(page: Path, root: Path) -> Iterator[Command]:
    """The page's commands, in page order."""
    text = page.read_text(encoding="utf-8")
    name = str(page.relative_to(root))
    for match in BLOCK.finditer(text):
        if match.group(1) not in SHELL:
            continue
        first_line = text[: match.start(2)].count("\n") + 1
        offset = 0
        for raw in re.split(r"(?<!\\)\n", match.group(2)):
            line = re.sub(r"\\\n\s*", " ", raw).strip().removeprefix("$ ")
            if line and not line.startswith("#") and _is_command(line):
                yield Command(name, first_line + offset, line)
            offset += raw.count("\n") + 1


def shortest(text: str) -> str:
    """A synopsis in its shortest form: bracketed parts dropped, the first of each choice."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\s*\[[^\[\]]*\]", "", text)
    return re.sub(r"(?<=\s)([^\s|'\"]+)(\|[^\s|'\"]+)+", r"\1", text)


def fill(text: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """The line with each placeholder replaced (a whole token, or a word inside a URL path:
    ``/items/ITEM/decide``); the placeholder tokens left without a value."""
    for name in sorted(values, key=len, reverse=True):
        pattern = rf"(?<![A-Za-z0-9_$]){re.escape(name)}…?(?![A-Za-z0-9_])"
        text = re.sub(pattern, values[name].replace("\\", "\\\\"), text)
    missing = [
        found.group(1)
        for token in text.split()
        if (found := PLACEHOLDER.match(token)) and found.group(1) not in VERBS
    ]
    return text, missing
