"""bastion serve imports structlog without rich.traceback (and Pygments); logged exceptions
still carry their traceback, on the console format and in JSON."""

from __future__ import annotations

import subprocess
import sys

LEAN = """
import sys
from bastion.cli.structlog_import import import_structlog_lean
print(import_structlog_lean(), import_structlog_lean())
import structlog.dev
print(structlog.dev.rich is None, "pygments" in sys.modules, "rich.traceback" in sys.modules)
from bastion.observability.logging import configure_logging
from bastion.settings import LoggingSettings
configure_logging(LoggingSettings(format=sys.argv[1]))
try:
    1 / 0
except ZeroDivisionError:
    structlog.get_logger().exception("boom")
sys.stdout.flush()
import rich.traceback  # a later import is not refused
"""


def _run(fmt: str) -> tuple[list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", LEAN, fmt], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines(), done.stderr  # the log goes to stderr


def test_structlog_is_imported_once_without_rich_tracebacks() -> None:
    lines, _ = _run("console")
    assert lines[0].split() == ["True", "False"]
    assert lines[1].split() == ["True", "False", "False"]


def test_logged_exceptions_keep_their_traceback() -> None:
    for fmt in ("console", "json"):
        _, out = _run(fmt)
        assert "boom" in out
        assert "Traceback (most recent call last)" in out
        assert "ZeroDivisionError: division by zero" in out
