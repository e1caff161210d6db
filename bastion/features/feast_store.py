"""Feast as a feature source: lookups from its online store, training rows from
``get_historical_features`` (its point-in-time join over the offline store) — one set of
feature definitions read by serving and by training.

Imported only when ``features.source`` is ``feast`` (the ``feast`` extra). A binding's
``table`` is a feature view; its single entity column is the join key (an integer column
takes the entity key as an integer). Feast's SDK is synchronous, so each read runs in a
worker thread and the event loop never waits on the store. A feature whose value is null
(never materialized, or older than the view's ttl) counts as missing and follows the
binding's policy; an entity with every value null is a missing entity. Views are read from
Feast's registry once (at startup for the bound ones): restart after ``feast apply``.

Importing ``feast.metrics`` (Feast does it lazily, e.g. on ``materialize``) points
``PROMETHEUS_MULTIPROC_DIR`` at a temporary directory of its own: a process that imported
prometheus_client after that would keep every metric in mmap files there, and every child
process would inherit it. Here prometheus_client is imported first, ``feast.metrics`` is
imported up front, and the variables are put back as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
from collections.abc import Awaitable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from bastion.errors import BastionError, ConfigError, UpstreamUnavailable

_PROMETHEUS_ENV = ("PROMETHEUS_MULTIPROC_DIR", "PROMETHEUS_MULTIPROCESS_DIR")


@contextlib.contextmanager
def _keeping_environ(names: Sequence[str]) -> Iterator[None]:
    saved = {n: os.environ.get(n) for n in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


with _keeping_environ(_PROMETHEUS_ENV):
    try:
        import feast.metrics  # noqa: F401  (now, not lazily later outside this block)
        import pandas as pd
        from feast import FeatureStore
        from feast.errors import FeastError
        from feast.types import Int32, Int64
    except ImportError as exc:  # pragma: no cover - the error says what to install
        raise ConfigError(
            "features.source is feast but the feast package is not installed; install the "
            "extra (pip install 'bastion[feast]') or set features.source: builtin"
        ) from exc

T = TypeVar("T")
_TS = "event_timestamp"
_ROW = "bastion_row"  # carried through Feast's join: its output's row order is its own


@dataclass(frozen=True)
class _View:
    name: str
    join_key: str
    integer: bool
    features: tuple[str, ...]

    @property
    def refs(self) -> list[str]:
        return [f"{self.name}:{f}" for f in self.features]

    def key(self, entity: str) -> Any:
        """The join key's value for ``entity`` (None: no such entity can exist)."""
        if not self.integer:
            return entity
        try:
            return int(entity)
        except ValueError:
            return None


def _present(value: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return not (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _native(value: Any) -> Any:
    return value.item() if hasattr(value, "item") and not isinstance(value, list) else value


async def _reading(store: str, read: Awaitable[T]) -> T:
    """``read``; a store that fails (file, database, network: Feast's errors vary by store)
    is a 502 that names it, not an internal error."""
    try:
        return await read
    except BastionError:
        raise
    except Exception as exc:
        raise UpstreamUnavailable(
            f"Feast's {store} store could not be read ({type(exc).__name__}: {exc}); check "
            "the store named in feature_store.yaml"
        ) from exc


class FeastFeatures:
    def __init__(self, repo: Path, tables: Iterable[str] = ()) -> None:
        if not (repo / "feature_store.yaml").is_file():
            raise ConfigError(
                f"features.feast_repo {str(repo)!r} holds no feature_store.yaml; point it at "
                "the Feast repo (the directory where `feast apply` runs)"
            )
        self._store = FeatureStore(repo_path=str(repo))
        self._views: dict[str, _View] = {}
        for table in tables:
            self._view(table)  # an unknown view fails at startup, not on the first request

    def _view(self, table: str) -> _View:
        hit = self._views.get(table)
        if hit is not None:
            return hit
        try:
            fv = self._store.get_feature_view(table)
        except FeastError as exc:
            raise ConfigError(
                f"feature view '{table}' is not in the Feast registry: {exc}; run `feast "
                "apply` in the repo or fix the binding's table"
            ) from exc
        if len(fv.entity_columns) != 1:
            raise ConfigError(
                f"feature view '{table}' has {len(fv.entity_columns)} entity columns; a "
                "binding looks features up by one entity key"
            )
        col = fv.entity_columns[0]
        hit = _View(
            table, col.name, col.dtype in (Int32, Int64), tuple(f.name for f in fv.features)
        )
        self._views[table] = hit
        return hit

    def online(self, table: str, entity: str) -> Mapping[str, Any] | None:
        """A blocking read (the enrich stage uses ``fetch``, off the event loop)."""
        return self._online(table, [entity]).get(entity)

    async def fetch(self, table: str, entities: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        return await _reading("online", asyncio.to_thread(self._online, table, entities))

    def _online(self, table: str, entities: Sequence[str]) -> dict[str, dict[str, Any]]:
        view = self._view(table)
        asked = [(e, k) for e in dict.fromkeys(entities) if (k := view.key(e)) is not None]
        if not asked:
            return {}
        rows = [{view.join_key: k} for _, k in asked]
        got = self._store.get_online_features(features=view.refs, entity_rows=rows).to_dict()
        out = {}
        for i, (entity, _) in enumerate(asked):
            values = {f: got[f][i] for f in view.features if _present(got[f][i])}
            if values:
                out[entity] = values
        return out

    async def as_of(self, table: str, entity: str, at: datetime) -> Mapping[str, Any] | None:
        return (await self.as_of_many(table, [(entity, at)]))[0]

    async def as_of_many(
        self, table: str, asks: Sequence[tuple[str, datetime]]
    ) -> list[Mapping[str, Any] | None]:
        return await _reading("offline", asyncio.to_thread(self._historical, table, asks))

    def _historical(
        self, table: str, asks: Sequence[tuple[str, datetime]]
    ) -> list[Mapping[str, Any] | None]:
        """One point-in-time join for all of ``asks`` (a row number keeps their order)."""
        view = self._view(table)
        keyed = [(n, k, at) for n, (e, at) in enumerate(asks) if (k := view.key(e)) is not None]
        out: list[Mapping[str, Any] | None] = [None] * len(asks)
        if not keyed:
            return out
        asked = pd.DataFrame(
            {
                _ROW: [n for n, _, _ in keyed],
                view.join_key: [k for _, k, _ in keyed],
                _TS: [pd.Timestamp(at) for _, _, at in keyed],
            }
        )
        job = self._store.get_historical_features(entity_df=asked, features=view.refs)
        for row in job.to_df().to_dict("records"):
            values = {f: _native(row[f]) for f in view.features if _present(row.get(f))}
            out[int(row[_ROW])] = values or None
        return out
