"""The rollout service: routes calls to canary and A/B arms, mirrors shadow traffic, counts
per arm, and — in the one process holding the lease — drives every canary step by step."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bastion.errors import BastionError, ConfigError
from bastion.routing.rollouts.ab import assign
from bastion.routing.rollouts.book import ShadowAgreement, StatsBook, candidate_agreement
from bastion.routing.rollouts.canary import CanaryControl, GateCheck, takes_canary
from bastion.routing.rollouts.config import plans_from, unit
from bastion.routing.rollouts.driver import CanaryDriver
from bastion.routing.rollouts.entities import CanaryRun, StatsRecord
from bastion.routing.rollouts.hooks import Hooks
from bastion.routing.rollouts.operations import RolloutOps
from bastion.routing.rollouts.shadow import ShadowJob, ShadowRunner
from bastion.routing.rollouts.store import RolloutStore
from bastion.settings import DeploymentSettings
from bastion.settings.rollouts import RolloutsSettings
from bastion.store.tables import utcnow

if TYPE_CHECKING:
    from bastion.backends.base import Prediction
    from bastion.observability.sinks import AlertSink, AuditSink
    from bastion.pipeline.call import Call, Result
    from bastion.registry import Registry
    from bastion.routing.deployments import DeploymentManager
    from bastion.routing.rollouts.ab import OutcomeSource
    from bastion.store import Database

log = structlog.get_logger(__name__)

LEASE = "canary-driver"


@dataclass(frozen=True, slots=True)
class Route:
    """Where one call goes: its arm, the version to pin (None: the live one), its stats run."""

    kind: str
    arm: str
    version: int | None
    run: str


class RolloutService:
    """Shadow, canary and A/B for every deployment of one process (see docs/rollouts.md)."""

    def __init__(
        self,
        settings: RolloutsSettings,
        configured: list[DeploymentSettings],
        db: Database,
        registry: Registry,
        deployments: DeploymentManager,
        *,
        clock: Callable[[], datetime] = utcnow,
        gate: GateCheck | None = None,
        process: str | None = None,
        audit: AuditSink | None = None,
        alerts: AlertSink | None = None,
        feedback: OutcomeSource | None = None,
    ) -> None:
        self._settings = settings
        self._registry = registry
        self._deployments = deployments
        self._now = clock
        self.hooks = Hooks(audit, alerts, feedback)
        self.store = RolloutStore(db, clock)
        control = CanaryControl(
            self.store,
            registry,
            self.hooks,
            gate=gate,
            on_alias_change=self._moved,
            on_ended=self._forget,
        )
        self.book = StatsBook(process or uuid.uuid4().hex[:16])
        # the promotion gates' shadow source: read fresh, every process's counters
        self.shadow_agreement = ShadowAgreement(self.store, self.book)
        plans = plans_from(settings)
        names = {d.name for d in configured}
        unknown = sorted(n for n in plans if names and n not in names)
        if unknown:
            raise ConfigError(
                f"rollouts.deployments names deployments that are not configured: "
                f"{', '.join(unknown)}; deployments: {', '.join(sorted(names))}"
            )
        self.ops = RolloutOps(
            self.store,
            registry,
            control,
            plans,
            configured,
            self.book,
            feedback=lambda: self.hooks.feedback,
            clock=clock,
        )
        self._plans = plans
        self._driver = CanaryDriver(self.ops, plans, clock)
        self._routed = frozenset(n for n, p in plans.items() if p.ab or p.shadow)
        self._shadow = ShadowRunner(
            deployments.pinned,
            lambda job: self.book.shadow(job.deployment, job.run, job.model),
            concurrency=settings.shadow_concurrency,
            queue_size=settings.shadow_queue,
        )
        self._canaries: dict[str, CanaryRun] = {}
        self._aliases: dict[tuple[str, str], int] = {}
        self._revision = -1
        self._assignments: list[tuple[str, str, str, str]] = []
        self.assignments_dropped = 0
        self._shadow_records: list[StatsRecord] = []
        self._last_flush = -math.inf
        self._warm: set[tuple[str, int]] = set()
        self.leader = False
        self._renewed = -math.inf  # when this process last took or renewed the lease

    # -- the hot path: no I/O, no awaits ------------------------------------------------------

    def active(self, deployment: str) -> bool:
        return deployment in self._canaries or deployment in self._routed

    def route(self, call: Call) -> Route | None:
        """The arm of this call: a running canary's stable hash split, else a sticky A/B arm."""
        run = self._canaries.get(call.deployment)
        if run is not None:
            if takes_canary(run, call.request_id):
                return Route("canary", "canary", run.version, run.stats_run)
            return Route("canary", "stable", None, run.stats_run)
        plan = self._plans.get(call.deployment)
        if plan is None or plan.ab is None:
            return None
        arm = assign(plan.ab, call)
        version = arm.version
        if version is None:
            version = self._aliases.get((self.ops.model_of(call.deployment), arm.alias or ""))
            if version is None:
                return None  # the arm's alias is not set: the live version answers, uncounted
        return Route("ab", arm.name, version, f"ab:{plan.ab.experiment}")

    def record(
        self,
        call: Call,
        route: Route,
        model: str,
        latency_ms: float,
        *,
        error: bool,
        predictions: Sequence[Prediction] = (),
    ) -> None:
        """Count one answered (or failed) call on its arm; client mistakes are not counted."""
        low = 0.5
        run = self._canaries.get(call.deployment)
        if route.kind == "canary" and run is not None:
            low = run.plan.slo.low_confidence_below
        stats = self.book.arm(route.kind, call.deployment, route.run, route.arm, model)
        stats.record(
            latency_ms,
            error=error,
            confidences=[p.confidence for p in predictions],
            low_below=low,
        )
        if route.kind == "ab":
            if len(self._assignments) < self._settings.max_pending_assignments:
                experiment = route.run.removeprefix("ab:")
                self._assignments.append((call.request_id, call.deployment, experiment, route.arm))
            else:
                self.assignments_dropped += 1

    def mirror(self, call: Call, result: Result, live_ms: float) -> None:
        """Queue a shadow replay of this successful call when it is sampled; never waits."""
        plan = self._plans.get(call.deployment)
        shadow = plan.shadow if plan else None
        if shadow is None or result.stream is not None:
            return
        if unit(f"shadow:{call.request_id}") >= shadow.share:
            return
        version = shadow.version
        if version is None and shadow.alias is not None:
            version = self._aliases.get((result.model, shadow.alias))
        if version is None or version == result.version:
            return
        job = ShadowJob(
            deployment=call.deployment,
            model=result.model,
            version=version,
            run=f"v{version}",
            request_id=call.request_id,
            inputs=list(call.inputs),
            batched=call.batched,
            live_outputs=[p.output for p in result.predictions],
            live_ms=live_ms,
            tolerance=shadow.tolerance,
            timeout_s=shadow.timeout_s,
        )
        self._shadow.submit(job)

    def agreement(self, model: str, candidate_version: int) -> float | None:
        """Share of shadow-compared outputs where ``candidate_version`` agreed with the live
        version (all processes, as of the last flush plus this process's latest), or None."""
        return candidate_agreement(self._shadow_records, self.book, model, candidate_version)[0]

    # -- the background loop --------------------------------------------------------------------

    async def start(self) -> None:
        await self.refresh()

    async def run(self) -> None:
        """Refresh, flush and drive every ``tick_s`` until cancelled."""
        while True:
            await asyncio.sleep(self._settings.tick_s)
            try:
                await self.tick()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("rollout_tick_failed")

    async def tick(self) -> None:
        await self.refresh()
        if time.monotonic() - self._last_flush >= self._settings.persist_interval_s:
            await self.flush()
        await self.drive()

    async def refresh(self) -> None:
        """Read the running canaries (every process routes by them) and the alias snapshot."""
        self._canaries = {r.deployment: r for r in await self.store.running()}
        revision = await self._registry.revision()
        if revision != self._revision:
            self._aliases = await self._registry.snapshot()
            self._revision = revision
        for run in self._canaries.values():
            if (run.deployment, run.version) not in self._warm:
                self._warm.add((run.deployment, run.version))
                try:
                    await self._deployments.pinned(run.deployment, run.version)
                except BastionError as exc:
                    log.error("canary_load_failed", deployment=run.deployment, error=exc.message)

    async def flush(self) -> None:
        """Persist this process's changed counters and the A/B assignment log."""
        self._last_flush = time.monotonic()
        await self.store.save_stats(self.book.process, self.book.take_dirty())
        pending, self._assignments = self._assignments, []
        await self.store.log_assignments(pending)
        shadowed = [name for name, plan in self._plans.items() if plan.shadow is not None]
        self._shadow_records = [
            rec
            for name in shadowed
            for rec in await self.store.load_stats("shadow", deployment=name)
        ]

    async def drive(self) -> None:
        """If this process holds the lease: start canaries whose alias moved, then judge each."""
        now = time.monotonic()
        # The leader renews a third of the way into its lease, not every tick: a write a
        # second, idle, for a lease that lasts ``lease_s``.
        if not self.leader or now - self._renewed >= self._settings.lease_s / 3:
            self.leader = await self.store.acquire_lease(
                LEASE, self.book.process, self._settings.lease_s
            )
            self._renewed = now
        if not self.leader:
            return
        await self._driver.auto_start(self._canaries, self._aliases)
        for run in list(self._canaries.values()):
            after = await self._driver.step(run, self._aliases)
            if after is not None:
                self._canaries[run.deployment] = after
                continue
            self._canaries.pop(run.deployment, None)
            await self.flush()  # the ended run's last figures

    def _forget(self, run: CanaryRun) -> None:
        """Stop routing to a canary that just ended (other processes follow on their tick)."""
        self._canaries.pop(run.deployment, None)

    async def _moved(self) -> None:
        await self._deployments.refresh()

    async def drained(self) -> None:
        """Wait until every queued shadow job has run."""
        await self._shadow.drained()

    async def aclose(self) -> None:
        await self._shadow.aclose()
        with contextlib.suppress(BastionError, SQLAlchemyError):
            await self.flush()
        if self.leader:
            with contextlib.suppress(BastionError, SQLAlchemyError):
                await self.store.release_lease(LEASE, self.book.process)
