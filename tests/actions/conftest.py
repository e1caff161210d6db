"""NATS for action tests: a real JetStream server at ``BASTION_TEST_NATS_URL`` (default
nats://127.0.0.1:4222). When it is unreachable the NATS cases skip, or fail if
``BASTION_REQUIRE_SERVICES=1``. Each test uses its own stream and subjects."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

NATS_URL = os.environ.get("BASTION_TEST_NATS_URL", "nats://127.0.0.1:4222")


@pytest.fixture
def unique() -> str:
    return "t" + secrets.token_hex(4)


@pytest.fixture
async def nats_js() -> AsyncIterator[Any]:
    import nats

    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
    except Exception as exc:
        reason = f"NATS is not reachable at {NATS_URL}: {type(exc).__name__}"
        if os.environ.get("BASTION_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (BASTION_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    yield nc.jetstream()
    await nc.close()
