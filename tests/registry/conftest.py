"""Registry fixtures: an artifact store under tmp_path and a Registry on each database backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.registry import ArtifactStore, Registry
from bastion.store import Database


@pytest.fixture
def artifacts(tmp_path: Path) -> ArtifactStore:
    return ArtifactStore(tmp_path / "artifacts")


@pytest.fixture
def registry(database: Database, artifacts: ArtifactStore) -> Registry:
    return Registry(database, artifacts)
