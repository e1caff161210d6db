"""A server's Services in-process with the breast-cancer model, for the jobs tests."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from bastion.demo.tabular import sample_inputs, train_breast_cancer
from bastion.jobs import Job
from bastion.registry import ArtifactStore, Registry
from bastion.security import KeyStore, Principal
from bastion.services import Services
from bastion.settings import Settings, load_settings
from bastion.store import Database, migrate
from bastion.wiring import build_services, close_services

PRICE = 0.001  # USD per prediction
MODEL = "breast-cancer"


@functools.cache
def trained() -> Any:
    return train_breast_cancer()


def job_settings(data_dir: Path, extra: dict[str, Any] | None = None, **jobs: Any) -> Settings:
    extra = dict(extra or {})
    return load_settings(
        data_dir=data_dir,
        demo=False,
        monitoring=extra.pop("monitoring", {"enabled": False}),
        governance={
            "prices": {MODEL: {"per_prediction": PRICE}},
            "budgets": {"rules": [{"scope": "tenant", "window": "day", "limit_usd": 1000}]},
        },
        jobs={
            "chunk_rows": 100,
            "call_rows": 32,
            "columnar_chunk_rows": 100,
            "columnar_call_rows": 32,
            "poll_interval_s": 0.05,
            **jobs,
        },
        **extra,
    )


async def seed(settings: Settings) -> tuple[Principal, Principal]:
    """Register and promote the model; an operator key in tenant acme and one in globex."""
    await migrate.upgrade(settings.resolved_database_url)
    db = Database(settings.resolved_database_url)
    try:
        registry = Registry(db, ArtifactStore(settings.artifacts_dir))
        m = trained()
        mv = await registry.register(
            MODEL,
            flavor=m.flavor,
            artifact=m.artifact,
            artifact_name=m.artifact_name,
            signature=m.signature,
        )
        await registry.promote(MODEL, mv.version, actor="test")
        keys = KeyStore(db)
        _, acme = await keys.create("acme-ops", ["operator"], tenant="acme")
        _, globex = await keys.create("globex-ops", ["operator"], tenant="globex")
        return acme.principal(), globex.principal()
    finally:
        await db.aclose()


@dataclass
class JobsEnv:
    svc: Services
    acme: Principal
    globex: Principal
    root: Path

    async def submit(self, path: Path, **kw: Any) -> Job:
        assert self.svc.jobs is not None
        return await self.svc.jobs.create(
            kw.pop("principal", self.acme),
            stream(path),
            deployment=kw.pop("deployment", MODEL),
            filename=path.name,
            **kw,
        )

    async def finished(self, job: Job, timeout: float = 60.0) -> Job:
        assert self.svc.jobs is not None
        for _ in range(int(timeout / 0.05)):
            job = await self.svc.jobs.ledger.get(job.id)
            if job.finished:
                return job
            await asyncio.sleep(0.05)
        raise AssertionError(f"job {job.id} did not finish: {job}")


async def stream(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as fh:
        while block := fh.read(4096):
            yield block


def write_jsonl(path: Path, rows: list[Any], bad_lines: dict[int, bytes] | None = None) -> Path:
    lines = [orjson.dumps(r) for r in rows]
    for at, line in sorted((bad_lines or {}).items()):
        lines.insert(at, line)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
async def jobs_env(tmp_path: Path) -> AsyncIterator[JobsEnv]:
    settings = job_settings(tmp_path / "data")
    acme, globex = await seed(settings)
    svc = await build_services(settings)
    try:
        yield JobsEnv(svc, acme, globex, tmp_path)
    finally:
        await close_services(svc)


def rows(n: int) -> list[dict[str, float]]:
    return sample_inputs(n)
