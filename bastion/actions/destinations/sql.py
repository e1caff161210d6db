"""SQL destinations: one statement per step on a configured PostgreSQL or SQLite database.

Parameters only: the statement is fixed in config with ``:named`` parameters, and templates
fill the parameters, never the SQL text. ``:idempotency_key`` is always bound (the unique key
of an upsert: ``INSERT … ON CONFLICT (key) DO NOTHING``). With ``expect_rows`` set, touching
any other number of rows is a conflict — optimistic concurrency, e.g. ``UPDATE … WHERE id = :id
AND version = :expected``; ``reread`` (a SELECT of the current value) shows both versions on a
conflict and, under policy ``retry``, supplies the fresh ``expected`` for the next attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bastion.actions.base import Outcome
from bastion.actions.compiled import CompiledCall
from bastion.settings.actions import DestinationSettings
from bastion.store.database import create_engine


class SqlDestination:
    def __init__(self, name: str, settings: DestinationSettings) -> None:
        self.name = name
        self.settings = settings
        self._engine: AsyncEngine | None = None

    async def start(self) -> None:
        if self._engine is None:
            assert self.settings.url is not None
            self._engine = create_engine(self.settings.url)

    async def send(
        self, call: CompiledCall, ctx: Mapping[str, Any], key: str, *, reread: bool = False
    ) -> Outcome:
        await self.start()
        assert self._engine is not None and call.settings.statement is not None
        params = {**call.params(ctx), "idempotency_key": key}
        try:
            async with asyncio.timeout(self.settings.timeout_s), self._engine.begin() as conn:
                if reread and call.settings.reread:
                    params["expected"] = await _current(conn, call, params)
                done = await conn.execute(text(call.settings.statement), params)
                want = call.settings.expect_rows
                if want is not None and done.rowcount != want:
                    current = await _current(conn, call, params) if call.settings.reread else None
                    await conn.rollback()
                    return Outcome(
                        "conflict",
                        error=f"expected {want} row(s) changed, got {done.rowcount}",
                        details={"expected": params.get("expected"), "current": current},
                    )
        except IntegrityError as exc:
            return Outcome("permanent", error=f"integrity: {str(exc.orig)[:200]}")
        except ProgrammingError as exc:
            return Outcome("permanent", error=f"statement: {str(exc.orig)[:200]}")
        except (OperationalError, DBAPIError, TimeoutError, OSError) as exc:
            return Outcome("retry", error=f"{type(exc).__name__}: {str(exc)[:200]}")
        return Outcome("ok")

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


async def _current(conn: AsyncConnection, call: CompiledCall, params: Mapping[str, Any]) -> Any:
    assert call.settings.reread is not None
    return (await conn.execute(text(call.settings.reread), dict(params))).scalar()
