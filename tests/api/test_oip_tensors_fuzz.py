"""Whatever an OIP request holds, decoding it and choosing its outputs either works or
raises InvalidRequest: never another exception (which would be a 500)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from bastion.api.oip_outputs import requested, select
from bastion.api.oip_tensors import decode_inputs
from bastion.errors import InvalidRequest

hypothesis = pytest.importorskip("hypothesis")
st = hypothesis.strategies

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)  # fmt: skip
DTYPE = st.sampled_from(["BOOL", "INT8", "UINT64", "FP16", "FP32", "FP64", "BYTES"]) | JSON
TENSOR = st.fixed_dictionaries(
    {"name": st.text(max_size=4) | JSON, "datatype": DTYPE,
     "shape": st.lists(st.integers(-1, 4), max_size=3) | JSON},
    optional={"data": st.lists(st.integers(0, 3) | st.floats(0, 1) | st.text(max_size=2) | JSON,
                               max_size=6) | JSON,
              "parameters": st.fixed_dictionaries({}, optional={
                  "binary_data_size": st.integers(-2, 12) | JSON}) | JSON},
)  # fmt: skip
BODY = st.fixed_dictionaries(
    {"inputs": st.lists(TENSOR, max_size=3) | JSON},
    optional={"outputs": st.lists(st.fixed_dictionaries({"name": st.text(max_size=3) | JSON},
                                                        optional={"parameters": JSON}),
                                  max_size=2) | JSON,
              "parameters": JSON},
)  # fmt: skip
TENSORS = [{"name": "a", "datatype": "FP64", "shape": [1], "data": [1.0]}]


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True, database=None)
@hypothesis.given(body=BODY, binary=st.binary(max_size=16))
def test_any_request_decodes_or_is_refused(body: dict[str, Any], binary: bytes) -> None:
    with contextlib.suppress(InvalidRequest):
        decode_inputs(body, binary)
    with contextlib.suppress(InvalidRequest):
        wanted, default = requested(body)
        select(TENSORS, wanted, default)
