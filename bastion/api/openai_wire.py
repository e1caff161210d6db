"""The end of an OpenAI event stream, as the OpenAI routes send it (the one place it is built).

A complete stream ends with ``data: [DONE]``; a broken one with an ``error`` event and no
``[DONE]``, so that SDKs raise instead of returning a truncated answer as finished.
"""

from __future__ import annotations

from bastion.backends.sse import encode_event
from bastion.errors import BastionError

DONE = b"data: [DONE]\n\n"


def error_event(exc: BastionError, request_id: str) -> bytes:
    """The explicit end of a broken stream, in OpenAI's error shape with the request id."""
    error = {"type": exc.type, "message": exc.message, "code": exc.type, "param": None}
    return encode_event({"error": {**error, "request_id": request_id}})
