"""JsonAnswer: the bytes, status and headers of Starlette's ``Response`` for JSON."""

from __future__ import annotations

import pytest
from starlette.responses import Response

from bastion.api.render import JSON, JsonAnswer, json_response


@pytest.mark.parametrize("status", [200, 201, 204, 304, 101, 404, 503])
@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"X-Bastion-Model": "m", "x-ratelimit-remaining-requests": "9"},
        {"Content-Type": "application/problem+json", "retry-after": "2"},
        {"content-length": "2", "x-a": "é"},
    ],
)
def test_the_answer_is_starlettes_response(status: int, headers: dict[str, str] | None) -> None:
    body = b'{"ok":true}'
    ours = JsonAnswer(body, status, headers)
    theirs = Response(body, status, headers, media_type=JSON)
    assert ours.raw_headers == theirs.raw_headers  # same headers, same order
    assert (ours.body, ours.status_code, ours.background) == (theirs.body, status, None)
    assert ours.headers["content-type"] == theirs.headers["content-type"]


def test_json_response_serializes_with_numpy() -> None:
    import numpy as np

    answer = json_response({"v": np.float32(0.5)}, 429, {"retry-after": "1"})
    assert (answer.body, answer.status_code) == (b'{"v":0.5}', 429)
    assert answer.raw_headers[0] == (b"retry-after", b"1")
