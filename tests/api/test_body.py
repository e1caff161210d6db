"""Reading a JSON body: the size shortcut never skips a limit the full walk would enforce."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.api.body import _parse, within_limits_by_size
from bastion.contracts import check_limits
from bastion.errors import InvalidRequest
from bastion.settings import LimitsSettings

SMALL = LimitsSettings(max_depth=3, max_string_length=40, max_list_length=6)
SHALLOW = LimitsSettings(max_depth=3)  # lengths as configured by default: depth decides
SHORT = LimitsSettings(max_depth=64, max_string_length=40, max_list_length=40)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=8) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=30,
)


@pytest.mark.parametrize("limits", [SMALL, SHALLOW, SHORT], ids=["small", "shallow", "short"])
@settings(max_examples=1000, deadline=None)
@given(value=json_values)
def test_the_shortcut_is_taken_only_when_the_walk_would_pass(
    limits: LimitsSettings, value: Any
) -> None:
    raw = orjson.dumps(value)
    if within_limits_by_size(raw, limits):
        check_limits(value, limits)  # must not raise
    try:
        check_limits(value, limits)
        walked = None
    except InvalidRequest as exc:
        walked = exc.message
    try:
        _parse(raw, limits)
        parsed = None
    except InvalidRequest as exc:
        parsed = exc.message
    assert parsed == walked  # the same verdict, and the same message, either way


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a":"' + b"x" * 41 + b'"}',  # a long string
        b'{"a":[1,2,3,4,5,6,7]}',  # a long list
        b'{"a":{"b":{"c":{}}}}',  # too deep
    ],
)
def test_bodies_that_break_a_limit_are_still_refused(raw: bytes) -> None:
    assert not within_limits_by_size(raw, SMALL)
    with pytest.raises(InvalidRequest):
        _parse(raw, SMALL)


def test_a_small_body_takes_the_shortcut() -> None:
    raw = b'{"model":"m","messages":[{"role":"user","content":"hello"}]}'
    assert within_limits_by_size(raw, LimitsSettings())
