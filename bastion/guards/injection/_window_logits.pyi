from collections.abc import Sequence
from typing import Any

def window_logits(
    parts: Sequence[str],
    groups: Sequence[Sequence[int]],
    weights: Any,
    bias: float,
    n_features: int,
    /,
) -> list[float]: ...
def gram_slots(text: str, words: bool, n_features: int, /) -> list[int]: ...
