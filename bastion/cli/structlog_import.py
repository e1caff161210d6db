"""Import structlog in the serving process without Rich, and so without Pygments.

structlog's ``dev`` module imports ``rich.console`` and ``rich.traceback`` whenever Rich is
installed (Typer brings it), and ``rich.traceback`` imports Pygments: ~4 MiB resident in
every worker for a formatter Bastion never calls, since its processors run
``format_exc_info`` before the renderer and so hand it exceptions already rendered as text
(``observability/logging.py``), and ~3 MiB more for Rich's console, which the serving
process never uses either (``structlog.tracebacks`` imports Rich for the locals of
``dict_tracebacks``, which Bastion does not use). Only the imports made here are refused:
structlog then takes Rich as absent (``structlog.dev.rich`` is None) and everything
imported afterwards, Rich included, loads as usual.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

REFUSED = "rich"


class _RefuseRichTraceback:
    """A meta-path finder that refuses Rich (``rich`` and its modules) while structlog is
    imported."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == REFUSED or name.startswith(REFUSED + "."):
            raise ModuleNotFoundError(f"{name} is not imported with structlog", name=name)
        return None


def import_structlog_lean() -> bool:
    """Import structlog without Rich; False when structlog or ``rich.traceback`` is already
    imported (nothing to save)."""
    if "structlog" in sys.modules or "rich.traceback" in sys.modules:
        return False
    finder = _RefuseRichTraceback()
    sys.meta_path.insert(0, finder)
    try:
        import structlog  # noqa: F401
    finally:
        sys.meta_path.remove(finder)
    return True
