"""What a page's commands need to run: the files they name, the values of their placeholders,
the server's config, and the exit status a line documents when it is not 0."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.server import Server

Builder = Callable[[Path], None]
Setup = Callable[[Server, Path], Mapping[str, str]]
# a placeholder's value: text ({work}, {url} and setup's values filled in), or read from the
# server just before the line runs (the newest job, a review item)
Value = str | Callable[[Server, Path], str]


@dataclass(frozen=True)
class Page:
    """One page's fixture map. ``{work}`` in a value is the page's scratch directory (the
    commands' working directory), ``{url}`` the server's address; a ``setup`` runs before the
    first command and returns named values (an approver key, a review item), usable as
    ``{NAME}`` in other values and set in the reader's shell."""

    files: Mapping[str, Builder | str] = field(default_factory=dict)
    values: Mapping[str, Value] = field(default_factory=dict)  # placeholder → value
    replace: Mapping[str, str] = field(default_factory=dict)  # literal text → value
    env: Mapping[str, str] = field(default_factory=dict)  # the reader's shell
    # documented line → values (placeholders, shell variables) for that line only
    lines: Mapping[str, Mapping[str, Value]] = field(default_factory=dict)
    # the server's bastion.yaml needs this (merged into the one all pages share)
    config: str | None = None
    # Python modules the server must import (an entry point), on its PYTHONPATH
    modules: Mapping[str, str] = field(default_factory=dict)
    # a server of the page's own with only this config (demo models off): for a page whose
    # config would change what the other pages' names mean
    own_config: str | None = None
    setup: Setup | None = None
    status: Mapping[str, int] = field(default_factory=dict)  # documented line → exit status
    # documented line → a shell line run just before it: the state the page assumes there
    # (the refused promotion an `--override` line follows)
    before: Mapping[str, str] = field(default_factory=dict)
    server: bool = True  # False: the page's commands need no server
    # the page's ```python blocks (by index) that are whole programs: run after its commands,
    # in its scratch directory (the repository's root on sys.path), each must exit 0
    programs: tuple[int, ...] = ()


def block(page: str, lang: str, index: int = 0) -> str:
    """The text of a page's ``index``-th fenced block of language ``lang``."""
    root = Path(__file__).resolve().parents[2]
    text = (root / page).read_text(encoding="utf-8")
    blocks = re.findall(rf"^```{lang}\n(.*?)^```", text, re.S | re.M)
    return str(blocks[index])


@dataclass(frozen=True)
class Skip:
    """A documented command this machine cannot run, and why."""

    page: str
    command: str  # as documented, without its comment
    reason: str
