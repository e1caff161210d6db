"""The prediction log's sparing scrub: the same stored bytes, without walking number-only parts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.guards import PiiDetector
from bastion.monitoring.predictions import dumps, sparing

DETECTOR = PiiDetector()
TEXTS = st.sampled_from(["", "benign", "ann@example.com", "call 4111 1111 1111 1111", "x" * 7])
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXTS,
    lambda inner: (
        st.lists(inner, max_size=6)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4) | TEXTS, inner, max_size=6)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(value=json_values)
def test_the_stored_bytes_are_the_scrubs(value: Any) -> None:
    assert dumps(sparing(DETECTOR.scrub)(value)) == dumps(DETECTOR.scrub(value))


def test_number_only_parts_are_not_walked() -> None:
    seen: list[Any] = []

    def scrub(value: Any) -> Any:
        seen.append(value)
        return DETECTOR.scrub(value)

    features = {"mean_radius": 14.2, "mean_area": 654, "flag": True, "missing": None}
    output = {"label": "benign", "class_id": 1, "probabilities": {"malignant": 0.1, "benign": 0.9}}
    payload = {"input": features, "output": output}
    got = sparing(scrub)(payload)
    assert seen == ["benign"]  # the one string; no number, no number-only dict
    assert got["input"] is features and got["output"]["probabilities"] is output["probabilities"]
    assert sparing(scrub)({"input": "mail ann@example.com"}) == {"input": "mail [EMAIL]"}
