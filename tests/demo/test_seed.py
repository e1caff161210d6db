"""First-start seeding of the demo models runs in a child process (bastion serve's path)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bastion.demo.seed import seed_in_child
from bastion.registry import Registry
from bastion.registry.opening import open_artifacts
from bastion.settings import load_settings
from bastion.store import Database
from bastion.store.schema import ensure_schema


async def test_the_demo_is_seeded_in_a_child(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BASTION_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BASTION_CONFIG", raising=False)
    settings = load_settings()
    (tmp_path / "data").mkdir()
    await ensure_schema(settings.resolved_database_url)
    trained_here = "sklearn" in sys.modules
    await seed_in_child()
    assert ("sklearn" in sys.modules) == trained_here  # nothing trained in this process
    db = Database(settings.resolved_database_url)
    artifacts = open_artifacts(settings, db)
    try:
        models = await Registry(db, artifacts).list_models()
        assert {m.name for m in models} >= {"minilm"}
        assert all("production" in m.aliases for m in models)
        await seed_in_child()  # a seeded registry is left alone
        assert len(await Registry(db, artifacts).list_models()) == len(models)
    finally:
        await artifacts.aclose()
        await db.aclose()
