"""Import structlog in the serving process without ``rich.traceback`` and so without Pygments.

structlog's ``dev`` module imports ``rich.traceback`` whenever Rich is installed (Typer
brings it), and that imports Pygments: ~4 MiB resident in every worker for a formatter
Bastion never calls, since its processors run ``format_exc_info`` before the renderer and so
hand it exceptions already rendered as text (``observability/logging.py``). Only the
import made here is refused: structlog then takes Rich as absent (``structlog.dev.rich`` is
None) and everything imported afterwards, Rich's tracebacks included, loads as usual.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

REFUSED = "rich.traceback"


class _RefuseRichTraceback:
    """A meta-path finder that refuses ``rich.traceback`` while structlog is imported."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == REFUSED:
            raise ModuleNotFoundError(f"{REFUSED} is not imported with structlog", name=name)
        return None


def import_structlog_lean() -> bool:
    """Import structlog without ``rich.traceback``; False when structlog or
    ``rich.traceback`` is already imported (nothing to save)."""
    if "structlog" in sys.modules or REFUSED in sys.modules:
        return False
    finder = _RefuseRichTraceback()
    sys.meta_path.insert(0, finder)
    try:
        import structlog  # noqa: F401
    finally:
        sys.meta_path.remove(finder)
    return True
