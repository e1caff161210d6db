"""Rollout fixtures: real Services (SQLite and PostgreSQL) with fake python models, a rollout
service on a hand-moved clock, and the request path assembled around it."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bastion.pipeline import Call, Next, Result
from bastion.routing.rollouts import RolloutService
from bastion.services import Services
from bastion.settings import Settings
from tests.support import WallClock

MODELS = "tests.routing.rollouts.models"


FakeClock = WallClock  # the shared fake wall clock (tests/support.py)


@dataclass
class Recorder:
    """Stands in for the audit log and the alert manager of other teams (the world's edge)."""

    audits: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    async def admin(self, actor: str, action: str, target: str, details: dict[str, Any]) -> None:
        self.audits.append((actor, action, target, details))

    async def fire(self, rule: str, **kw: Any) -> None:
        self.alerts.append({"rule": rule, **kw})


@dataclass
class Outlets:
    audit: Recorder
    alerts: Recorder


@dataclass
class Env:
    svc: Services
    rollouts: RolloutService
    pipeline: Next
    clock: FakeClock
    outlets: Outlets
    keys: dict[str, str] = field(default_factory=dict)

    async def call(
        self, deployment: str, item: Any = None, *, key: str | None = None, rid: str | None = None
    ) -> Result:
        headers = {"authorization": f"Bearer {self.keys[key]}"} if key else {}
        call = Call(
            request_id=rid or uuid.uuid4().hex,
            deployment=deployment,
            api="predict",
            inputs=[{"x": 1} if item is None else item],
            batched=False,
            started_at=time.perf_counter(),
            headers=headers,
        )
        return await self.pipeline(call)

    async def key(self, name: str) -> str:
        secret, _ = await self.svc.keys.create(name, ["client"])
        self.keys[name] = secret
        return secret

    def service(self, **kw: Any) -> RolloutService:
        """Another process's rollout service on the same database."""
        s = self.svc.settings
        return RolloutService(
            s.rollouts, s.deployments, self.svc.db, self.svc.registry, self.svc.deployments, **kw
        )


async def register(svc: Services, model: str, *entry_points: str) -> None:
    for fn in entry_points:
        await svc.registry.register(
            model, flavor="python", artifact=None, params={"entry_point": f"{MODELS}:{fn}"}
        )


@pytest.fixture
async def make_env(database_url: str, tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """``await make_env(rollouts, versions=[...])``: model ``m`` (deployment ``d``) with one
    version per entry point, v1 promoted to production."""
    from bastion.pipeline.assemble import assemble
    from bastion.wiring import build_services, close_services  # the app is built per test

    opened: list[tuple[Services, RolloutService]] = []

    async def make(
        rollouts: list[dict[str, Any]],
        versions: tuple[str, ...] = ("stable",),
        gate: Any = None,
        **extra: Any,
    ) -> Env:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            demo=False,
            security={"require_keys": False},
            deployments=[{"name": "d", "model": "m"}],
            rollouts={"deployments": rollouts, "persist_interval_s": 0.001, **extra},
        )
        svc = await build_services(settings)
        await register(svc, "m", *versions)
        await svc.registry.promote("m", 1, alias="production", actor="test")
        await svc.deployments.refresh()
        clock = FakeClock()
        outlets = Outlets(Recorder(), Recorder())
        rollouts_svc = RolloutService(
            settings.rollouts,
            settings.deployments,
            svc.db,
            svc.registry,
            svc.deployments,
            clock=clock,
            gate=gate,
            audit=outlets.audit,
            alerts=outlets.alerts,
        )
        opened.append((svc, rollouts_svc))
        pipeline = assemble(
            settings,
            svc.authenticator,
            svc.deployments,
            svc.gateway,
            svc.cache,
            rollouts=rollouts_svc,
        )
        await rollouts_svc.start()
        return Env(svc, rollouts_svc, pipeline, clock, outlets)

    yield make
    for svc, rollouts_svc in opened:
        await rollouts_svc.aclose()
        await close_services(svc)
