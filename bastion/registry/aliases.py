"""Aliases: naming rules, the per-alias history stack, and each alias change as one transaction."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bastion.errors import Conflict, InvalidRequest, NotFound
from bastion.registry.entities import MAX_VERSION, AliasEvent, bounded
from bastion.store import Database
from bastion.store.changes import WhileUnchanged
from bastion.store.tables import AliasEventRow, ModelAliasRow, ModelRow, ModelVersionRow, utcnow

log = structlog.get_logger(__name__)

# More work in an alias change's own transaction (e.g. recording the canary it starts): it runs
# after the alias row is written and before the commit; if it raises, nothing is changed.
Also = Callable[[AsyncSession], Awaitable[None]]

ACTIONS = ("set", "promote", "rollback", "remove")
RESERVED = frozenset({"latest"})
_ALIAS = re.compile(r"^[a-z][a-z0-9._-]{0,62}$")
# Any fixed 64-bit number: the PostgreSQL advisory lock that orders alias changes globally.
_PG_ALIAS_LOCK = 0x42A5_A11A


@dataclass(frozen=True, slots=True)
class AliasTables:
    """The rows one kind of versioned thing keeps its aliases in (models; prompt templates
    reuse the same rules over their own tables). ``owner`` has ``name`` and ``description``;
    ``version`` ``name`` and ``version``; ``alias`` and ``event`` the columns of
    ``ModelAliasRow`` and ``AliasEventRow``. ``lock`` orders this kind's changes globally."""

    owner: type[Any]
    version: type[Any]
    alias: type[Any]
    event: type[Any]
    noun: str = "model"
    command: str = "bastion models"
    lock: int = _PG_ALIAS_LOCK


MODELS = AliasTables(ModelRow, ModelVersionRow, ModelAliasRow, AliasEventRow)


def validate_alias(alias: str) -> None:
    if not _ALIAS.match(alias) or alias in RESERVED:
        raise InvalidRequest(
            f"invalid alias {alias!r}: an alias starts with a lowercase letter, then up to 62 "
            "lowercase letters, digits, '.', '_' or '-' (e.g. production, staging, canary); "
            "'latest' is reserved",
            details={"field": "alias"},
        )


def alias_stack(events: Iterable[tuple[str, int | None]]) -> list[int]:
    """Replay ``(action, version)`` events, oldest first, into the alias's version stack.

    set/promote push, rollback pops the holder (the version below becomes the holder),
    remove clears. The last element holds the alias now.
    """
    stack: list[int] = []
    for action, version in events:
        if action in ("set", "promote") and version is not None:
            stack.append(version)
        elif action == "rollback" and stack:
            stack.pop()
        elif action == "remove":
            stack.clear()
    return stack


def describe(aliases: dict[str, int]) -> str:
    """``production → 3, staging → 4`` (or ``none``) for messages."""
    return ", ".join(f"{a} → {v}" for a, v in sorted(aliases.items())) or "none"


async def require_model(session: AsyncSession, name: str, t: AliasTables = MODELS) -> None:
    """NotFound, listing the registered models (or ``t``'s things), unless ``name`` exists."""
    if await session.get(t.owner, name) is not None:
        return
    names = list(await session.scalars(select(t.owner.name).order_by(t.owner.name).limit(21)))
    shown = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
    raise NotFound(
        f"no {t.noun} named '{name}'; registered {t.noun}s: "
        f"{shown or f'none yet (register one with `{t.command} register`)'}"
    )


async def missing_version(
    session: AsyncSession, name: str, version: int | None, t: AliasTables = MODELS
) -> NotFound:
    """The NotFound for an absent version, listing the versions that do exist."""
    await require_model(session, name, t)
    numbers = list(
        await session.scalars(
            select(t.version.version).where(t.version.name == name).order_by(t.version.version)
        )
    )
    listed = ", ".join(map(str, numbers)) if len(numbers) <= 20 else f"1 … {numbers[-1]}"
    return NotFound(f"{t.noun} '{name}' has no version {version}; its versions: {listed or 'none'}")


async def aliases_of(session: AsyncSession, name: str, t: AliasTables = MODELS) -> dict[str, int]:
    rows = await session.execute(select(t.alias.alias, t.alias.version).where(t.alias.name == name))
    return {alias: version for alias, version in rows}


async def snapshot(session: AsyncSession, t: AliasTables = MODELS) -> dict[tuple[str, str], int]:
    rows = await session.execute(select(t.alias.name, t.alias.alias, t.alias.version))
    return {(name, alias): version for name, alias, version in rows}


async def _lock(session: AsyncSession, name: str, t: AliasTables) -> None:
    """Begin an alias change on model ``name`` (NotFound if it does not exist).

    Alias changes are serialised globally so that ``alias_events.id`` values commit in
    increasing order: a server polling ``max(id)`` then never misses a change. PostgreSQL
    takes a transaction-scoped advisory lock; on SQLite the first statement is a write,
    which takes the database's one write lock (waiting up to busy_timeout).
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(t.lock)))
        await require_model(session, name, t)
        return
    touched = await session.execute(
        update(t.owner)
        .where(t.owner.name == name)
        .values(description=t.owner.description)
        .execution_options(synchronize_session=False)
    )
    if cast(CursorResult[Any], touched).rowcount == 0:
        await require_model(session, name, t)


async def _stack(session: AsyncSession, name: str, alias: str, t: AliasTables) -> list[int]:
    rows = await session.execute(
        select(t.event.action, t.event.version)
        .where(t.event.name == name, t.event.alias == alias)
        .order_by(t.event.id)
    )
    return alias_stack((action, version) for action, version in rows)


async def _record(
    session: AsyncSession,
    event: Any,
    t: AliasTables,
    *,
    version: int | None,
    also: Also | None = None,
) -> AliasEvent:
    """Point the event's alias at ``version`` (None removes it), append the event, run
    ``also`` in the same transaction, commit."""
    if version is None:
        await session.execute(
            delete(t.alias).where(t.alias.name == event.name, t.alias.alias == event.alias)
        )
    else:
        row = await session.get(t.alias, (event.name, event.alias))
        if row is None:
            row = t.alias(name=event.name, alias=event.alias)
            session.add(row)
        row.version, row.updated_at, row.updated_by = version, event.at, event.actor
    event.version = version
    session.add(event)
    if also is not None:
        await session.flush()
        await also(session)
    await session.commit()
    log.info(
        f"{t.noun}_alias_changed",
        **{t.noun: event.name},
        alias=event.alias,
        version=version,
        previous=event.previous_version,
        action=event.action,
        actor=event.actor,
    )
    return AliasEvent.from_row(event)


def _event(
    t: AliasTables,
    name: str,
    alias: str,
    *,
    action: str,
    previous: int | None,
    actor: str,
    reason: str,
) -> Any:
    return t.event(
        name=name,
        alias=alias,
        previous_version=previous,
        action=action,
        actor=actor,
        reason=reason,
        at=utcnow(),
    )


class AliasBook:
    """Alias changes; each is one transaction writing ``model_aliases`` and ``alias_events``
    (or the tables ``t`` names)."""

    def __init__(self, db: Database, t: AliasTables = MODELS) -> None:
        self._db = db
        self._t = t
        self._revision: WhileUnchanged[int] = WhileUnchanged(db)

    async def set(
        self,
        name: str,
        alias: str,
        version: int,
        *,
        actor: str,
        reason: str,
        action: str,
        also: Also | None = None,
    ) -> AliasEvent:
        validate_alias(alias)
        if action not in ("set", "promote"):
            raise InvalidRequest(f"action must be 'set' or 'promote', not {action!r}")
        bounded("actor", actor, 100)
        t = self._t
        async with self._db.session() as session:
            await _lock(session, name, t)
            in_range = 1 <= version <= MAX_VERSION
            if not in_range or await session.get(t.version, (name, version)) is None:
                raise await missing_version(session, name, version, t)
            previous = (await aliases_of(session, name, t)).get(alias)
            if previous == version:
                raise Conflict(
                    f"alias '{alias}' of {t.noun} '{name}' already points at version {version}; "
                    "nothing to change"
                )
            event = _event(
                t, name, alias, action=action, previous=previous, actor=actor, reason=reason
            )
            return await _record(session, event, t, version=version, also=also)

    async def rollback(self, name: str, alias: str, *, actor: str, reason: str) -> AliasEvent:
        validate_alias(alias)
        bounded("actor", actor, 100)
        t = self._t
        async with self._db.session() as session:
            await _lock(session, name, t)
            stack = await _stack(session, name, alias, t)
            if not stack:
                raise Conflict(
                    f"alias '{alias}' of {t.noun} '{name}' is not set, so there is nothing to roll "
                    f"back; promote a version first: {t.command} promote {name} VERSION"
                )
            if len(stack) < 2:
                raise Conflict(
                    f"alias '{alias}' of {t.noun} '{name}' has no earlier version to roll back to: "
                    f"version {stack[-1]} is the only one it has held since it was set. Promote "
                    f"the version you want instead: {t.command} promote {name} VERSION"
                )
            event = _event(
                t, name, alias, action="rollback", previous=stack[-1], actor=actor, reason=reason
            )
            return await _record(session, event, t, version=stack[-2])

    async def remove(self, name: str, alias: str, *, actor: str, reason: str) -> AliasEvent:
        bounded("actor", actor, 100)
        t = self._t
        async with self._db.session() as session:
            await _lock(session, name, t)
            current = await aliases_of(session, name, t)
            if alias not in current:
                raise NotFound(
                    f"{t.noun} '{name}' has no alias '{alias}'; its aliases: {describe(current)}"
                )
            event = _event(
                t, name, alias, action="remove", previous=current[alias], actor=actor, reason=reason
            )
            return await _record(session, event, t, version=None)

    async def history(self, name: str, alias: str | None) -> list[AliasEvent]:
        t = self._t
        async with self._db.session() as session:
            await require_model(session, name, t)
            query = select(t.event).where(t.event.name == name)
            if alias is not None:
                query = query.where(t.event.alias == alias)
            rows = await session.scalars(query.order_by(t.event.id))
            return [AliasEvent.from_row(row) for row in rows]

    async def revision(self) -> int:
        """Polled by the watchers several times a second: asks the database only after a
        commit (``store/changes.py``), so an idle server runs no query for it."""
        return await self._revision.get(self._read_revision)

    async def _read_revision(self) -> int:
        t = self._t
        quick = self._db.quick_scalar()
        if quick is not None:  # SQLite: the index's last key, no session (polled under load)
            return int(quick(f"SELECT max(id) FROM {t.event.__tablename__}") or 0)
        async with self._db.session() as session:
            return await session.scalar(select(func.max(t.event.id))) or 0

    async def snapshot(self) -> dict[tuple[str, str], int]:
        async with self._db.session() as session:
            return await snapshot(session, self._t)
