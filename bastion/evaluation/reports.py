"""Eval reports: stored once per run, listed newest first, the latest per version and set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from bastion.evaluation.entities import EvalReport, EvalSet
from bastion.store import Database
from bastion.store.evaluation_tables import EvalReportRow
from bastion.store.tables import utcnow

_LOOKBACK = 50  # reports per version and set searched for one holding a gate's metrics


class ReportStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        model: str,
        version: int,
        eval_set: EvalSet,
        *,
        rows: int,
        scorers: list[str],
        metrics: dict[str, float],
        slices: dict[str, Any],
        gaps: dict[str, Any],
        params: dict[str, Any],
        created_by: str,
        tenant: str | None = None,
    ) -> EvalReport:
        row = EvalReportRow(
            model=model,
            version=version,
            set_name=eval_set.name,
            set_version=eval_set.version,
            set_sha256=eval_set.sha256,
            rows=rows,
            scorers=scorers,
            metrics=metrics,
            slices=slices,
            gaps=gaps,
            params=params,
            created_by=created_by[:100],
            created_at=utcnow(),
            tenant=tenant,
        )
        async with self._db.session() as session:
            session.add(row)
            await session.commit()
            return EvalReport.from_row(row)

    async def list_reports(
        self,
        model: str | None = None,
        version: int | None = None,
        *,
        set_name: str | None = None,
        limit: int = 100,
    ) -> list[EvalReport]:
        """Newest first."""
        query = select(EvalReportRow).order_by(EvalReportRow.id.desc()).limit(limit)
        if model is not None:
            query = query.where(EvalReportRow.model == model)
        if version is not None:
            query = query.where(EvalReportRow.version == version)
        if set_name is not None:
            query = query.where(EvalReportRow.set_name == set_name)
        async with self._db.session() as session:
            return [EvalReport.from_row(r) for r in await session.scalars(query)]

    async def latest(
        self, model: str, version: int, set_sha256: str, having: Sequence[str] = ()
    ) -> EvalReport | None:
        """The newest report of ``model`` v``version`` on the eval set content ``set_sha256``
        that holds every metric in ``having`` (a later run with other scorers does not hide
        the report a gate needs); among the newest ``_LOOKBACK`` reports."""
        async with self._db.session() as session:
            rows = await session.scalars(
                select(EvalReportRow)
                .where(
                    EvalReportRow.model == model,
                    EvalReportRow.version == version,
                    EvalReportRow.set_sha256 == set_sha256,
                )
                .order_by(EvalReportRow.id.desc())
                .limit(_LOOKBACK)
            )
            for row in rows:
                if all(m in (row.metrics or {}) for m in having):
                    return EvalReport.from_row(row)
        return None
