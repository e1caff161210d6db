"""How a request cut by the server's shutdown is told apart from a client that went away.

At the end of ``server.graceful_timeout_s`` the server cancels the requests still running with
``CUT_BY_SHUTDOWN`` as the cancellation's message; the audit stage records them as
``shutting_down`` and the drain gate answers them with a JSON 503.
"""

from __future__ import annotations

import asyncio

CUT_BY_SHUTDOWN = "bastion: cut by shutdown (server.graceful_timeout_s passed)"


def cut_by_shutdown(exc: BaseException) -> bool:
    return isinstance(exc, asyncio.CancelledError) and CUT_BY_SHUTDOWN in exc.args
