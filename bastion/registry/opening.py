"""This process's artifacts from its settings: the local cache and the configured shared store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bastion.registry.artifacts import ArtifactStore
from bastion.registry.blobs import open_blob_store
from bastion.registry.tiered import Artifacts
from bastion.store import Database

if TYPE_CHECKING:
    from bastion.settings import Settings


def open_artifacts(settings: Settings, db: Database) -> Artifacts:
    """The cache in the data dir, and ``artifacts.url`` (or its default for the database)."""
    url = settings.artifacts.resolved(settings.database_url)
    return Artifacts(ArtifactStore(settings.artifacts_dir), open_blob_store(url, db))
