"""Runs a page's commands in order against a test server, as a reader would in a shell."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.doc_commands import Command, fill, shortest
from tests.e2e.server import BASTION, Server


@dataclass(frozen=True)
class Outcome:
    command: Command
    ran: str  # the line as run (placeholders filled, the test server's address)
    status: int
    output: str


def as_run(
    command: Command,
    server: Server | None,
    values: Mapping[str, str],
    replace: Mapping[str, str],
) -> tuple[str, list[str]]:
    """The line as it runs here, and the placeholders the page's fixture map lacks.

    ``replace`` swaps literal text of the documented line (its absolute paths, a backup's
    name) in one pass, longest first, before the placeholders are filled."""
    text = shortest(command.bare) if command.synopsis else command.bare
    if replace:
        literals = "|".join(re.escape(k) for k in sorted(replace, key=len, reverse=True))
        text = re.sub(literals, lambda m: replace[m.group(0)], text)
    text, missing = fill(text, values)
    if server is not None:
        address = f"127.0.0.1:{server.port}"
        text = re.sub(r"\b(localhost|127\.0\.0\.1):8000\b", address, text)
        text = text.replace("bst_…", server.admin_key)
    # an HTTP error fails the command (curl prints the body still)
    text = re.sub(r"(^|[;&|]\s*)curl ", r"\1curl --fail-with-body ", text)
    return text, missing


def shell_env(server: Server | None, work: Path, extra: dict[str, str]) -> dict[str, str]:
    base = (
        dict(server.env)
        if server is not None
        else {k: v for k, v in os.environ.items() if not k.startswith("BASTION_")}
    )
    env = {**base, "PATH": f"{Path(BASTION).parent}:/usr/bin:/bin", "HOME": str(work)}
    if server is not None:
        env |= {"BASTION_URL": server.url, "BASTION_KEY": server.admin_key}
        env |= {"URL": server.url, "KEY": server.admin_key}
    return env | extra


def run(prelude: list[str], text: str, env: dict[str, str], work: Path) -> tuple[int, str]:
    script = "\n".join(["set -eo pipefail", *prelude, text])
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout[-3000:] + done.stderr[-3000:]
