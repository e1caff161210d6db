"""Retrieval collections: a full-text index of chunks for hybrid search (SQLite FTS5, kept
in step by triggers). PostgreSQL ranks with to_tsvector at query time and needs nothing here.

Revision ID: rag_0002
Revises: rag_0001
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "rag_0002"
down_revision: str | None = "rag_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE = [
    "CREATE VIRTUAL TABLE rag_chunks_fts USING fts5("
    "text, content='rag_chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER rag_chunks_fts_insert AFTER INSERT ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER rag_chunks_fts_delete AFTER DELETE ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rag_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "END",
    "CREATE TRIGGER rag_chunks_fts_update AFTER UPDATE ON rag_chunks BEGIN "
    "INSERT INTO rag_chunks_fts(rag_chunks_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO rag_chunks_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO rag_chunks_fts(rag_chunks_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS rag_chunks_fts_{name}")
        op.execute("DROP TABLE IF EXISTS rag_chunks_fts")
