"""The schema check a server makes without Alembic, and the shipped list of heads it uses."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE

from bastion.store import migrate
from bastion.store.heads import HEADS
from bastion.store.schema import ensure_schema, shipped_head, stored_revisions


def test_the_shipped_heads_are_alembics_heads() -> None:
    # Fails when a migration is added without `python -m bastion.store.heads` (servers
    # would then run an upgrade child at every start, or never see a pending one).
    assert shipped_head() == migrate.head()
    assert len(set(HEADS)) == len(HEADS)


async def test_ensure_schema_migrates_a_blank_database_in_a_child(blank_database_url: str) -> None:
    assert await stored_revisions(blank_database_url) is None
    assert await ensure_schema(blank_database_url) == migrate.head()
    assert await migrate.current(blank_database_url) == migrate.head()
    assert await stored_revisions(blank_database_url) == frozenset(HEADS)


async def test_a_partly_migrated_database_is_brought_to_head(blank_database_url: str) -> None:
    await migrate.upgrade(blank_database_url, "registry_0001")
    assert await stored_revisions(blank_database_url) != frozenset(HEADS)
    assert await ensure_schema(blank_database_url) == migrate.head()
    assert await migrate.current(blank_database_url) == migrate.head()


async def _modules_after(code: str) -> set[str]:
    program = (
        "import asyncio, sys\n"
        "from bastion.store import migrate, schema\n"
        f"{code}\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')))\n"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", program, stdout=PIPE, stderr=PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return set(out.decode().split())


async def test_a_database_at_head_is_checked_without_importing_alembic(
    blank_database_url: str,
) -> None:
    url = blank_database_url
    await migrate.upgrade(url, "registry_0001")
    # a pending migration imports it (the check below can fail)...
    assert "alembic" in await _modules_after(f"asyncio.run(migrate.upgrade({url!r}))")
    # ...and at head neither the server's check nor an upgrade does
    assert await _modules_after(f"asyncio.run(schema.ensure_schema({url!r}))") == set()
    assert await _modules_after(f"asyncio.run(migrate.upgrade({url!r}))") == set()
