"""The auth stage: another tenant's deployment is absent (404); a refused call keeps its
principal, so that the audit records who was refused."""

from __future__ import annotations

from typing import Any

import pytest

from bastion.core import Principal
from bastion.errors import Forbidden, NotFound
from bastion.pipeline import Call
from bastion.security import AuthStage

ACME_CLIENT = Principal("k1", "acme-app", "acme", frozenset({"client"}))
ACME_REVIEWER = Principal("k2", "acme-rev", "acme", frozenset({"reviewer"}))


class Keys:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    async def authenticate(self, authorization: str | None) -> Principal:
        return self.principal


def _call(deployment: str) -> Call:
    return Call("r1", deployment, "predict", [1], False, 0.0, headers={"authorization": "x"})


async def _next(call: Call) -> Any:
    return "answered"


OWNERS = {"beta-m": "beta", "acme-m": "acme"}


async def test_another_tenants_deployment_is_not_found() -> None:
    stage = AuthStage(Keys(ACME_CLIENT), owner_of=OWNERS.get)  # type: ignore[arg-type]
    assert await stage(_call("acme-m"), _next) == "answered"
    assert await stage(_call("shared"), _next) == "answered"
    with pytest.raises(NotFound, match="no deployment named 'beta-m'"):
        await stage(_call("beta-m"), _next)


async def test_a_refused_call_keeps_its_principal() -> None:
    stage = AuthStage(Keys(ACME_REVIEWER), owner_of=OWNERS.get)  # type: ignore[arg-type]
    call = _call("acme-m")
    with pytest.raises(Forbidden):
        await stage(call, _next)
    assert call.principal == ACME_REVIEWER
