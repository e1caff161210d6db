"""Reference profiles in the database, and profiles built from training-data files."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import ColumnElement, or_, select

from bastion.errors import InvalidRequest
from bastion.monitoring.config import DriftSettings
from bastion.monitoring.features import features_of
from bastion.monitoring.profile import ReferenceProfile, build_profile
from bastion.store import Database
from bastion.store.monitoring_tables import DriftReferenceRow

if TYPE_CHECKING:
    from bastion.backends.base import TextEncoder

log = structlog.get_logger(__name__)

TRAINING_SUFFIXES = (".csv", ".parquet", ".jsonl")


class ReferenceStore:
    """``drift_references``: the newest profile of a model version wins; a deployment's own
    baseline wins over the version's training profile."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(
        self,
        model: str,
        version: int,
        profile: ReferenceProfile,
        *,
        source: str,
        deployment: str | None = None,
        created_by: str = "system",
    ) -> int:
        rows = profile.features[0].rows if profile.features else 0
        if not rows and profile.prediction is not None:
            rows = profile.prediction.rows
        row = DriftReferenceRow(
            model=model,
            version=version,
            deployment=deployment,
            source=source,
            rows=rows,
            profile=profile.to_json(),
            created_by=created_by[:100],
        )
        async with self._db.session() as session:
            session.add(row)
            await session.commit()
        log.info(
            "drift_reference_stored",
            model=model,
            version=version,
            deployment=deployment,
            source=source,
            rows=rows,
        )
        return row.id

    async def get(
        self, model: str, version: int, deployment: str | None = None
    ) -> ReferenceProfile | None:
        found = await self._newest(model, version, deployment)
        return ReferenceProfile.from_json(found.profile) if found is not None else None

    async def newest(
        self, model: str, version: int, deployment: str | None = None
    ) -> tuple[int, ReferenceProfile] | None:
        """The id and profile of the reference in use, or None."""
        found = await self._newest(model, version, deployment)
        return (found.id, ReferenceProfile.from_json(found.profile)) if found else None

    async def describe(
        self, model: str, version: int, deployment: str | None = None
    ) -> dict[str, Any] | None:
        """Where the reference in use came from (source, rows, when, by whom), or None."""
        found = await self._newest(model, version, deployment)
        if found is None:
            return None
        return {
            "id": found.id,
            "source": found.source,
            "deployment": found.deployment,
            "rows": found.rows,
            "created_by": found.created_by,
            "created_at": found.created_at.isoformat(),
        }

    async def _newest(
        self, model: str, version: int, deployment: str | None
    ) -> DriftReferenceRow | None:
        scope: ColumnElement[bool] = DriftReferenceRow.deployment.is_(None)
        if deployment is not None:
            scope = or_(scope, DriftReferenceRow.deployment == deployment)
        query = (
            select(DriftReferenceRow)
            .where(DriftReferenceRow.model == model, DriftReferenceRow.version == version, scope)
            .order_by(DriftReferenceRow.id.desc())
        )
        async with self._db.session() as session:
            rows = list(await session.scalars(query.limit(50)))
        own = [r for r in rows if r.deployment is not None]
        return own[0] if own else (rows[0] if rows else None)


def profile_items(
    items: Sequence[Any],
    *,
    predictions: Sequence[Any] | None = None,
    confidences: Sequence[Any] | None = None,
    feature_names: Sequence[str] | None = None,
    encoder: Callable[[], TextEncoder] | None = None,
    settings: DriftSettings | None = None,
) -> ReferenceProfile:
    """A profile of model inputs read exactly as the live log reads them (``features_of``);
    text inputs are embedded with ``encoder`` when given."""
    rows, texts = [], []
    for item in items:
        row, text = features_of(item, feature_names)
        rows.append(row)
        if text:
            texts.append(text)
    embeddings = None
    if encoder is not None and texts and len(texts) >= 3:
        embeddings = encoder().encode(texts)
    return build_profile(
        rows,
        predictions=predictions
        if predictions and any(p is not None for p in predictions)
        else None,
        confidences=confidences
        if confidences and any(c is not None for c in confidences)
        else None,
        embeddings=embeddings,
        settings=settings,
    )


def read_training_data(path: Path) -> list[Any]:
    """Rows of a ``.csv`` (numbers parsed), ``.parquet`` or ``.jsonl`` file (objects or texts)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".parquet":
        import pyarrow.parquet as pq  # type: ignore[import-untyped,import-not-found,unused-ignore]

        table = pq.read_table(path)
        rows: list[Any] = table.to_pylist()
        return rows
    if suffix == ".jsonl":
        out = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidRequest(f"{path.name} line {n} is not JSON: {exc.msg}") from exc
        return out
    raise InvalidRequest(
        f"training data {path.name}: use a {', '.join(TRAINING_SUFFIXES)} file to build a profile"
    )


def split_label(rows: list[Any], label_column: str | None) -> tuple[list[Any], list[Any] | None]:
    """(inputs, labels): ``label_column`` is taken out of object rows (its values returned)."""
    if label_column is None:
        return rows, None
    if not rows or not all(isinstance(r, dict) and label_column in r for r in rows):
        raise InvalidRequest(f"label column {label_column!r} is not in every row of the data")
    labels = [r[label_column] for r in rows]
    return [{k: v for k, v in r.items() if k != label_column} for r in rows], labels


def _read_csv(path: Path) -> list[Any]:
    with path.open(newline="", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    columns = list(raw[0]) if raw else []
    numeric = {c: all(_is_number(r[c]) for r in raw if r[c] not in ("", None)) for c in columns}
    return [{c: _cell(r[c], numeric[c]) for c in columns} for r in raw]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _cell(text: str | None, numeric: bool) -> Any:
    if text is None or text == "":
        return None
    if not numeric:
        return text
    number = float(text)
    return (
        int(number)
        if number.is_integer() and "." not in text and "e" not in text.lower()
        else number
    )
