from collections.abc import Sequence

import numpy as np

from bastion.caching.semantic import SemanticIndex, question_and_scope

WORDS = ["password", "reset", "refund", "parcel"]


def fake_embed(texts: Sequence[str]) -> np.ndarray:
    """Bag-of-words over a tiny vocabulary, L2-normalised: similar questions, similar rows."""
    rows = np.array([[t.lower().count(w) + 0.01 for w in WORDS] for t in texts], dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


async def test_nearest_above_threshold_within_scope() -> None:
    index = SemanticIndex(fake_embed)
    v1 = await index.vector("how do I reset my password")
    index.add("s", "key-1", v1)
    near = await index.vector("password reset please")
    assert index.nearest("s", near, 0.9) == "key-1"
    far = await index.vector("where is my parcel")
    assert index.nearest("s", far, 0.9) is None
    assert index.nearest("other-scope", near, 0.9) is None


async def test_bounded_per_scope() -> None:
    index = SemanticIndex(fake_embed, max_per_scope=2, max_scopes=1)
    v = await index.vector("refund")
    for i in range(5):
        index.add("s", f"k{i}", v)
    assert index.nearest("s", v, 0.5) == "k3"  # the two newest remain; argmax takes the first
    index.add("t", "kt", v)
    assert index.nearest("s", v, 0.5) is None  # the oldest scope was evicted


def test_scope_separates_system_prompts_and_parameters() -> None:
    base = {
        "model": "m",
        "temperature": 0,
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}],
    }
    q1, s1 = question_and_scope(base)  # type: ignore[misc]
    q2, s2 = question_and_scope({**base, "stream": True})  # type: ignore[misc]
    assert q1 == q2 == "hi" and s1 == s2
    _, s3 = question_and_scope({**base, "max_tokens": 5})  # type: ignore[misc]
    assert s3 != s1
    assert question_and_scope({"messages": [{"role": "assistant", "content": "x"}]}) is None
