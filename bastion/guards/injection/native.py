"""The screen's two C extensions, where they were built.

``setup.py`` compiles them at ``pip install -e .`` (``make dev``). Each is optional: without
it the screen runs its pure-Python path, which stays the reference, with the same floats and
verdicts, several times slower on a new text (``tests/guards/test_native.py`` runs both
paths on every labelled text and compares them bit for bit).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.guards.injection._anchor_scan import AnchorIndex

#: ``(parts, groups, weights, bias, n_features) -> logits`` (``_window_logits.c``).
WindowLogits = Callable[[Sequence[str], Sequence[Sequence[int]], Any, float, int], list[float]]


def anchor_index(anchors: Sequence[str]) -> AnchorIndex | None:
    """``_anchor_scan.AnchorIndex(anchors)``, or None if it was not built (or an anchor is
    shorter than the two characters it files anchors under)."""
    try:
        from bastion.guards.injection._anchor_scan import AnchorIndex
    except ImportError:
        return None
    return AnchorIndex(anchors) if all(len(a) >= 2 for a in anchors) else None


def window_logits() -> WindowLogits | None:
    """``_window_logits.window_logits``, or None if it was not built."""
    try:
        from bastion.guards.injection._window_logits import window_logits
    except ImportError:
        return None
    return window_logits
