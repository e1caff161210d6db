"""Retrieval fixtures: the bundled MiniLM encoder (loaded once) and services on one database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest

from bastion.backends.resources import Resources
from bastion.core.principal import Principal
from bastion.rag import RagService
from bastion.settings.rag import RagSettings
from bastion.store import Database

Encode = Callable[[Sequence[str]], Any]


@pytest.fixture(scope="session")
def encode() -> Encode:
    encoder = Resources().text_encoder()
    return encoder.encode


def principal(
    tenant: str, *roles: str, key: str | None = None, team: str | None = None
) -> Principal:
    return Principal(
        key or f"k-{tenant}", f"key-{tenant}", tenant, frozenset(roles or ("operator",)), team=team
    )


ALICE = principal("acme")
BOB = principal("globex")
ADMIN = principal("root", "admin")


@pytest.fixture
async def services(database_url: str, encode: Encode) -> AsyncIterator[Callable[..., RagService]]:
    """Make RagServices, each on its own connection pool to the same database (replicas)."""
    made: list[tuple[RagService, Database]] = []

    def make(**settings: Any) -> RagService:
        db = Database(database_url)
        svc = RagService(RagSettings(**settings), db, encode)
        made.append((svc, db))
        return svc

    yield make
    for svc, db in made:
        await svc.aclose()
        await db.aclose()
