"""build_services builds everything in one pass: nothing is attached to Services afterwards."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bastion.settings import load_settings
from bastion.wiring import build_services, close_services


async def test_one_build_holds_jobs_batches_and_the_prompts_retriever(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data",
        demo=False,
        jobs={"enabled": True},
        prompts={"enabled": True},
        rag={"enabled": True},
    )
    svc = await build_services(settings)
    try:
        assert svc.jobs is not None and svc.batches is not None  # built with the pipeline
        assert svc.prompts is not None and svc.rag is not None
        assert svc.prompts.retriever is svc.rag  # retrieval steps use the server's collections
        with pytest.raises(dataclasses.FrozenInstanceError):
            svc.jobs = None  # type: ignore[misc]
    finally:
        await close_services(svc)
