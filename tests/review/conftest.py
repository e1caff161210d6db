"""Review fixtures: a real Services (on SQLite and PostgreSQL) serving fake classifiers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bastion.security import Principal
from bastion.services import Services
from bastion.settings import Settings
from bastion.wiring import build_services, close_services
from tests.support import WallClock

OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"label": {"enum": ["spam", "ham"]}},
    "required": ["label"],
}


FakeClock = WallClock  # the shared fake wall clock (tests/support.py)


def principal(name: str, *roles: str, tenant: str = "default") -> Principal:
    return Principal(f"key_{name}", name, tenant, frozenset(roles))


def policy(**overrides: Any) -> dict[str, Any]:
    return {"deployment": "classifier", "confidence_below": 0.5, **overrides}


ServicesFactory = Callable[..., Any]


@pytest.fixture
async def make_services(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``await make_services(policies=[...], **review)`` → Services with two deployments:
    ``classifier`` (tests.review.models:classify) and ``strong`` (…:strong)."""
    opened: list[Services] = []

    async def make(policies: list[dict[str, Any]] | None = None, **review: Any) -> Services:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            demo=False,
            review={"policies": policies or [], **review},
            security={"require_keys": False},
        )
        svc = await build_services(settings)
        opened.append(svc)
        if len(opened) > 1:  # the same database: the models are there already
            return svc
        for name, fn in (("classifier", "classify"), ("strong", "strong")):
            await svc.registry.register(
                name,
                flavor="python",
                artifact=None,
                params={"entry_point": f"tests.review.models:{fn}"},
                signature={"output_schema": OUTPUT_SCHEMA},
            )
            await svc.registry.promote(name, 1, alias="production", actor="test")
        await svc.deployments.refresh()
        return svc

    yield make
    for svc in opened:
        await close_services(svc)
