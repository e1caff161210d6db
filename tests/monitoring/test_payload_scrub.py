"""The chat payload's scrub: clean payloads stored as they are, the same bytes as the copy."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.guards import PiiDetector
from bastion.monitoring.payload_scrub import (
    _outside_texts,
    _protocol_aware,
    scrub_llm,
    scrub_llm_unguarded,
)
from bastion.monitoring.predictions import dumps, sparing

DETECTOR = PiiDetector()
CLEAN = st.sampled_from(["", "benign", "assistant"])
DIRTY = st.sampled_from(["ann@example.com", "call 4111 1111 1111 1111"])
KEYS = st.sampled_from(["id", "role", "content", "messages", "model", "user", "text", "n"])


def _values(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False) | texts,
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.tuples(inner, inner)
            | st.dictionaries(KEYS | st.text(max_size=3), inner, max_size=5)
        ),
        max_leaves=20,
    )


def _bodies(texts: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    message = st.fixed_dictionaries(
        {"role": texts, "content": texts | _values(texts)}, optional={"name": texts}
    )
    messages = st.lists(message | _values(texts), max_size=3)
    optional = {"model": texts, "user": _values(texts)}
    return st.fixed_dictionaries({"messages": messages}, optional=optional) | _values(texts)


ANY_TEXT = CLEAN | DIRTY


def _copied(payload: Any, scrub: Any, *, guarded: bool) -> Any:
    """The scrub as every payload was scrubbed before: walked and copied whole."""
    walk = _protocol_aware(scrub)
    if not guarded:
        return walk(payload)
    return {"input": _outside_texts(payload["input"], walk), "output": walk(payload["output"])}


@settings(max_examples=300, deadline=None)
@given(
    parts=st.tuples(_bodies(ANY_TEXT), _values(CLEAN))
    | st.tuples(_bodies(CLEAN), _values(ANY_TEXT))
    | st.tuples(_bodies(ANY_TEXT), _values(ANY_TEXT))
)
def test_the_stored_bytes_are_the_copied_scrubs(parts: tuple[Any, Any]) -> None:
    """Either half clean, so a text missed in the other half shows."""
    scrub = sparing(DETECTOR.scrub)
    payload = {"input": parts[0], "output": parts[1]}  # as the recorder builds it
    got = dumps(scrub_llm_unguarded(payload, scrub))
    assert got == dumps(_copied(payload, scrub, guarded=True))
    assert dumps(scrub_llm(payload, scrub)) == dumps(_copied(payload, scrub, guarded=False))


def test_a_clean_payload_is_stored_as_it_is_and_each_text_searched_once() -> None:
    searched: list[str] = []

    def scrub(value: Any) -> Any:
        searched.append(value)
        return DETECTOR.scrub(value)

    body = {"model": "g", "messages": [{"role": "user", "content": "hi"}], "user": "team blue"}
    clean = {"input": body, "output": {"id": "chatcmpl-1", "content": "hello there"}}
    assert scrub_llm_unguarded(clean, scrub) is clean
    assert sorted(searched) == ["hello there", "team blue"]

    searched.clear()
    dirty = {"input": body, "output": {"id": "chatcmpl-1", "content": "mail ann@example.com"}}
    got = scrub_llm_unguarded(dirty, scrub)
    assert got == {"input": body, "output": {"id": "chatcmpl-1", "content": "mail [EMAIL]"}}
    assert dirty["output"]["content"] == "mail ann@example.com"  # the call's own is untouched
    assert sorted(searched) == ["mail ann@example.com", "team blue"]  # not searched again
