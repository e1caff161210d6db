"""Rows of monitoring: the prediction log, feedback joined to it, and drift reference profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.tables import Base, utcnow

# A 64-bit key on PostgreSQL; SQLite's rowid alias must be spelt INTEGER.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class PredictionRow(Base):
    """One served prediction (one item of a request).

    ``payload`` holds ``{"input": ..., "output": ...}`` as JSON: in clear (``mode`` plain),
    encrypted with the app's key (``encrypted``) or with PII scrubbed (``scrubbed``); the input
    is left out when ``input_logged`` is false. ``label`` / ``value`` are the output's class
    label or regression value, kept in clear for accuracy.
    """

    __tablename__ = "prediction_log"
    __table_args__ = (
        Index("ix_prediction_log_request", "request_id", "item_index"),
        Index("ix_prediction_log_deployment_at", "deployment", "version", "at"),
        Index("ix_prediction_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(100))
    item_index: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=1)
    deployment: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    tenant: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    confidence: Mapped[float | None] = mapped_column(Float)
    label: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    segments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    mode: Mapped[str] = mapped_column(String(12), default="plain")
    input_logged: Mapped[bool] = mapped_column(default=True)
    payload: Mapped[bytes] = mapped_column(LargeBinary)


class FeedbackRow(Base):
    """One label or score for one logged prediction, with what accuracy needs copied in.

    The newest feedback on a prediction counts; older ones are kept, ``superseded``.
    ``task`` is ``classification`` (``correct``), ``regression`` (``abs_error``) or ``other``.
    """

    __tablename__ = "prediction_feedback"
    __table_args__ = (
        Index("ix_prediction_feedback_window", "deployment", "version", "predicted_at"),
        Index("ix_prediction_feedback_recent", "deployment", "predicted_at"),
        Index("ix_prediction_feedback_request", "request_id", "item_index"),
        Index("ix_prediction_feedback_prediction", "prediction_id"),
        Index("ix_prediction_feedback_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    prediction_id: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[str] = mapped_column(String(100))
    item_index: Mapped[int] = mapped_column(Integer, default=0)
    deployment: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    tenant: Mapped[str] = mapped_column(String(100))
    segments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    predicted_at: Mapped[datetime] = mapped_column()
    task: Mapped[str] = mapped_column(String(16))
    predicted_label: Mapped[str | None] = mapped_column(String(200))
    predicted_value: Mapped[float | None] = mapped_column(Float)
    label_key: Mapped[str | None] = mapped_column(String(200))
    label_value: Mapped[float | None] = mapped_column(Float)
    label: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_encrypted: Mapped[bool] = mapped_column(default=False)
    score: Mapped[float | None] = mapped_column(Float)
    correct: Mapped[bool | None] = mapped_column()
    abs_error: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16), default="feedback")
    actor: Mapped[str] = mapped_column(String(100), default="client")
    at: Mapped[datetime] = mapped_column(default=utcnow)
    superseded: Mapped[bool] = mapped_column(default=False)


class DriftReferenceRow(Base):
    """A reference profile (``bastion.monitoring.ReferenceProfile`` JSON) for a model version.

    ``deployment`` NULL: from the training data, for every deployment of the version; else a
    baseline frozen from that deployment's live traffic. The newest row wins.
    """

    __tablename__ = "drift_references"
    __table_args__ = (Index("ix_drift_references_version", "model", "version", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    deployment: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))
    rows: Mapped[int] = mapped_column(Integer, default=0)
    profile: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DriftWindowRow(Base):
    """One live drift window of one process (``owner``), kept so that a restart resumes it.

    ``tenant`` is "" for the whole traffic of the version, else that tenant's windows;
    ``source`` is the id of the reference row the window's bins follow; ``state`` holds the
    window (counts, reservoir, embedding sums) as an ``.npz``. ``owner`` NULL: released at a
    graceful shutdown, for the next process serving the version to adopt (docs/drift.md).
    """

    __tablename__ = "drift_windows"
    __table_args__ = (
        Index("ix_drift_windows_stream", "deployment", "version", "owner"),
        Index("ix_drift_windows_owner", "owner"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    deployment: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    tenant: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[int] = mapped_column(Integer)
    closed: Mapped[bool] = mapped_column(default=False)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    heartbeat_at: Mapped[datetime] = mapped_column(default=utcnow)
