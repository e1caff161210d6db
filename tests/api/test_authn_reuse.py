"""``authenticated``: the principal the gatekeeper found for this request, else a lookup."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from starlette.requests import Request

from bastion.api.authn import authenticated


def _request(state: dict[str, Any], asked: list[str | None]) -> Request:
    async def authenticate(header: str | None) -> str:
        asked.append(header)
        return f"looked up {header}"

    state["services"] = SimpleNamespace(authenticator=SimpleNamespace(authenticate=authenticate))
    scope = {"type": "http", "headers": [(b"authorization", b"Bearer k")], "state": state}
    return Request(scope)


async def test_the_gatekeepers_principal_is_reused_and_a_lookup_made_without_it() -> None:
    asked: list[str | None] = []
    assert await authenticated(_request({"principal": "alice"}, asked)) == "alice"
    assert asked == []  # the gatekeeper's lookup of the same header stands
    assert await authenticated(_request({}, asked)) == "looked up Bearer k"
    assert asked == ["Bearer k"]
