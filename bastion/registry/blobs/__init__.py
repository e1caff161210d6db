"""Shared artifact stores: the database's blobs and S3-compatible buckets (issue 18)."""

from __future__ import annotations

from bastion.registry.blobs.base import BlobStore
from bastion.registry.blobs.database import DatabaseBlobStore
from bastion.store import Database

__all__ = ["BlobStore", "DatabaseBlobStore", "open_blob_store"]


def open_blob_store(url: str, db: Database) -> BlobStore | None:
    """The shared store named by ``url`` (``local``: none, ``database``, ``s3://…``)."""
    if url == "local":
        return None
    if url == "database":
        return DatabaseBlobStore(db)
    from bastion.registry.blobs.s3 import S3BlobStore

    return S3BlobStore(url)
