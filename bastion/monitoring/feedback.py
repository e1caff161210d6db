"""Feedback: true labels and scores arriving any time later, joined to the logged prediction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import delete, select, update

from bastion.errors import InvalidRequest, NotFound
from bastion.monitoring.accuracy import Labelled
from bastion.monitoring.labels import check_args, judge
from bastion.monitoring.predictions import PredictionLog, dumps
from bastion.store import Database
from bastion.store.monitoring_tables import FeedbackRow, PredictionRow
from bastion.store.tables import utcnow

log = structlog.get_logger(__name__)

_OUTCOME_CHUNK = 500


@dataclass(frozen=True, slots=True)
class Feedback:
    """One recorded label or score. ``correct`` for a classification, None otherwise."""

    id: int
    request_id: str
    index: int
    label: Any
    score: float | None
    source: str
    actor: str
    at: datetime
    deployment: str = ""
    version: int = 0
    task: str = "other"
    correct: bool | None = None
    abs_error: float | None = None


class FeedbackStore:
    """Records feedback on logged predictions and reads it back for accuracy.

    A label is checked against what the model predicts: a class label (string) for a
    classifier, a number for a regressor; anything for other models (stored sealed like
    the prediction). The newest feedback on a prediction counts; earlier ones are kept as
    superseded. A prediction of another tenant is as unknown as one never logged.
    """

    def __init__(self, db: Database, predictions: PredictionLog, *, wait_s: float = 0.5) -> None:
        self._db = db
        self._log = predictions
        self._wait_s = wait_s
        # (deployment, version) → the classes its output contract allows (None: not known)
        self.classes: Callable[[str, int], list[str] | None] = lambda deployment, version: None

    async def record(
        self,
        request_id: str,
        *,
        index: int = 0,
        label: Any = None,
        score: float | None = None,
        source: str = "feedback",
        actor: str = "client",
        tenant: str | None = None,
        may_use: Callable[[str], bool] | None = None,
    ) -> Feedback:
        """Join ``label``/``score`` to the logged prediction ``request_id``[``index``].

        ``tenant`` None sees every tenant (admins, the review queue); ``may_use`` limits the
        deployments the caller may give feedback on. NotFound when the prediction is unknown,
        InvalidRequest when the label does not fit the model.
        """
        check_args(index, label, score, source)
        row = await self._find(request_id, index, tenant, may_use)
        values = judge(row, label, self.classes(row.deployment, row.version))
        aad = f"feedback:{row.request_id}:{row.item_index}".encode()
        blob, encrypted = None, False
        if label is not None:
            if values["task"] == "other":
                blob, mode = self._log.sealer.seal(label, aad, clear=row.mode == "encrypted")
                encrypted = mode == "encrypted"
            else:  # a class or a number, or a whole corrected output: no raw PII stored
                blob = dumps(self._log.sealer.scrubbed(label))
        now = utcnow()
        new = FeedbackRow(
            prediction_id=row.id,
            request_id=row.request_id,
            item_index=row.item_index,
            deployment=row.deployment,
            model=row.model,
            version=row.version,
            tenant=row.tenant,
            segments=dict(row.segments or {}),
            predicted_at=row.at,
            predicted_label=row.label,
            predicted_value=row.value,
            label=blob,
            label_encrypted=encrypted,
            score=None if score is None else float(score),
            source=source,
            actor=actor[:100],
            at=now,
            superseded=False,
            **values,
        )
        async with self._db.session() as session:
            session.add(new)
            await session.flush()
            await session.execute(
                update(FeedbackRow)
                .where(FeedbackRow.prediction_id == row.id, FeedbackRow.id < new.id)
                .values(superseded=True)
            )
            await session.commit()
        log.info(
            "feedback_recorded",
            deployment=row.deployment,
            version=row.version,
            source=source,
            task=values["task"],
            correct=values["correct"],
        )
        return Feedback(
            id=new.id,
            request_id=row.request_id,
            index=row.item_index,
            label=label,
            score=new.score,
            source=source,
            actor=new.actor,
            at=now,
            deployment=row.deployment,
            version=row.version,
            task=values["task"],
            correct=values["correct"],
            abs_error=values["abs_error"],
        )

    async def _find(
        self,
        request_id: str,
        index: int,
        tenant: str | None,
        may_use: Callable[[str], bool] | None,
    ) -> PredictionRow:
        rows = await self._log.rows(request_id, tenant=tenant)
        if not rows and self._wait_s > 0:  # it may still sit in another worker's queue
            await asyncio.sleep(self._wait_s)
            rows = await self._log.rows(request_id, tenant=tenant)
        if not rows or (may_use is not None and not may_use(rows[0].deployment)):
            raise NotFound(
                f"no logged prediction with request id {request_id!r} that you may see; send "
                "the 'id' of a prediction your key made (predictions are kept "
                "prediction_log.retention_days)"
            )
        for row in rows:
            if row.item_index == index:
                return row
        raise InvalidRequest(
            f"index: request {request_id!r} made {len(rows)} prediction(s); "
            f"send an index from 0 to {len(rows) - 1}",
            details={"field": "index"},
        )

    async def outcomes(self, request_ids: Sequence[str]) -> dict[str, float]:
        """Per request id, the mean outcome of its labelled items: the score when given,
        else 1.0 / 0.0 for a right / wrong class label (for A/B comparisons)."""
        found: dict[str, list[float]] = {}
        ids = list(dict.fromkeys(request_ids))
        for start in range(0, len(ids), _OUTCOME_CHUNK):
            chunk = ids[start : start + _OUTCOME_CHUNK]
            query = select(FeedbackRow.request_id, FeedbackRow.score, FeedbackRow.correct).where(
                FeedbackRow.request_id.in_(chunk), FeedbackRow.superseded.is_(False)
            )
            async with self._db.session() as session:
                for rid, score, correct in await session.execute(query):
                    if score is not None:
                        found.setdefault(rid, []).append(float(score))
                    elif correct is not None:
                        found.setdefault(rid, []).append(1.0 if correct else 0.0)
        return {rid: sum(v) / len(v) for rid, v in found.items()}

    async def labelled(
        self,
        deployment: str,
        *,
        version: int | None = None,
        since: datetime | None = None,
        limit: int = 1000,
        tenant: str | None = None,
    ) -> list[Labelled]:
        """The newest labelled predictions (by prediction time), one per prediction."""
        query = select(FeedbackRow).where(
            FeedbackRow.deployment == deployment, FeedbackRow.superseded.is_(False)
        )
        if version is not None:
            query = query.where(FeedbackRow.version == version)
        if since is not None:
            query = query.where(FeedbackRow.predicted_at >= since)
        if tenant is not None:
            query = query.where(FeedbackRow.tenant == tenant)
        query = query.order_by(FeedbackRow.predicted_at.desc(), FeedbackRow.id.desc()).limit(limit)
        async with self._db.session() as session:
            rows = list(await session.scalars(query))
        return [_labelled(r) for r in rows]

    async def versions(self, deployment: str, tenant: str | None = None) -> list[int]:
        """Versions of ``deployment`` that have feedback, newest first."""
        query = select(FeedbackRow.version).where(FeedbackRow.deployment == deployment)
        if tenant is not None:
            query = query.where(FeedbackRow.tenant == tenant)
        async with self._db.session() as session:
            found = await session.scalars(query.distinct())
            return sorted(set(found), reverse=True)

    async def deployments(self) -> list[str]:
        async with self._db.session() as session:
            found = await session.scalars(select(FeedbackRow.deployment).distinct())
            return sorted(set(found))

    async def purge(self, before: datetime) -> int:
        async with self._db.session() as session:
            result = await session.execute(delete(FeedbackRow).where(FeedbackRow.at < before))
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)


def _labelled(r: FeedbackRow) -> Labelled:
    return Labelled(
        prediction_id=r.prediction_id,
        version=r.version,
        tenant=r.tenant,
        segments=dict(r.segments or {}),
        task=r.task,
        predicted_label=r.predicted_label,
        label_key=r.label_key,
        predicted_value=r.predicted_value,
        label_value=r.label_value,
        score=r.score,
        predicted_at=r.predicted_at,
    )
