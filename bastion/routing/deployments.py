"""Deployments: served names bound to a registry alias, swapped live when the alias moves."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import structlog

from bastion.backends.base import SharedResources
from bastion.errors import BastionError, ModelNotReady, NotFound
from bastion.resilience import Bulkhead
from bastion.routing.loaded import LoadedVersion, load_version
from bastion.settings import DeploymentSettings, RegistrySettings

if TYPE_CHECKING:
    from bastion.registry import Registry

log = structlog.get_logger(__name__)

# How long a replaced version stays open so that requests already holding it can finish.
_RETIRE_AFTER_S = 30.0
# How often a version that failed to load is tried again (its artifact may be re-registered).
_RETRY_LOAD_S = 2.0


@dataclass(slots=True)
class Deployment:
    """One served name. ``current`` is replaced atomically; readers take it once per call."""

    settings: DeploymentSettings
    bulkhead: Bulkhead
    current: LoadedVersion | None = None
    error: str | None = None
    failed: int | None = None  # the version that failed to load, tried again until it loads
    pinned: OrderedDict[int, LoadedVersion] = field(default_factory=OrderedDict)

    @property
    def name(self) -> str:
        return self.settings.name

    def live(self) -> LoadedVersion:
        """The version serving now. Without one, the client learns only that (no paths, no
        operator instructions: those are in ``status()`` and the log), and ``Retry-After`` only
        while the version is still loading — a failure does not clear by retrying."""
        if self.current is None:
            if self.error is None:
                raise ModelNotReady(
                    f"deployment '{self.name}' is still loading; try again shortly",
                    retry_after=1,
                )
            raise ModelNotReady(
                f"deployment '{self.name}' has no version it can serve; its operators can see "
                f"why in GET /v1/deployments/{self.name}"
            )
        return self.current

    def status(self) -> dict[str, Any]:
        cur = self.current
        return {
            "name": self.name,
            "model": self.settings.model_name,
            "alias": self.settings.alias,
            "version": cur.version if cur else None,
            "flavor": cur.flavor if cur else None,
            "ready": cur is not None,
            "error": self.error,
            "input_schema": cur.contract.input_schema if cur else None,
            "output_schema": cur.contract.output_schema if cur else None,
        }


class DeploymentManager:
    """Keeps every deployment bound to the version its alias names, polling the registry."""

    def __init__(
        self,
        registry: Registry,
        resources: SharedResources,
        configured: list[DeploymentSettings],
        settings: RegistrySettings,
    ) -> None:
        self._registry = registry
        self._resources = resources
        self._configured = configured
        self._settings = settings
        self._deployments: dict[str, Deployment] = {}
        self._revision = -1
        self._lock = asyncio.Lock()
        self._retiring: set[asyncio.Task[None]] = set()
        self._retry_at = 0.0
        self._owners: dict[str, str | None] = {}  # deployment → its model's owning tenant
        self.ready = False

    def get(self, name: str) -> Deployment:
        dep = self._deployments.get(name)
        if dep is None:
            raise NotFound(
                f"no deployment named '{name}'; GET /v1/deployments lists those your key may use"
            )
        return dep

    def owner(self, name: str) -> str | None:
        """The tenant owning deployment ``name`` (its model's; None: shared or unknown)."""
        return self._owners.get(name)

    def all(self) -> list[Deployment]:
        return [self._deployments[n] for n in sorted(self._deployments)]

    async def start(self) -> None:
        await self.refresh(force=True)
        self.ready = True

    async def watch(self) -> None:
        """Poll the registry's revision; reconcile when it moved. Runs until cancelled."""
        while True:
            await asyncio.sleep(self._settings.poll_interval_s)
            try:
                await self.refresh()
            except Exception:  # the watcher must outlive a database hiccup
                log.exception("deployment_refresh_failed")

    async def refresh(self, *, force: bool = False) -> bool:
        """Reconcile with the registry if its revision changed; True if anything was checked."""
        revision = await self._registry.revision()
        if revision == self._revision and not force and not self._retry_due():
            return False
        async with self._lock:
            snapshot = await self._registry.snapshot()
            for wanted in self._wanted(snapshot):
                dep = self._deployments.get(wanted.name)
                if dep is None:
                    bulkhead = Bulkhead(wanted.max_concurrency, wanted.max_queue, name=wanted.name)
                    dep = self._deployments[wanted.name] = Deployment(wanted, bulkhead)
                await self._reconcile(dep, snapshot.get((wanted.model_name, wanted.alias)))
            models = await self._registry.owners()
            self._owners = {
                d.name: models.get(d.settings.model_name) for d in self._deployments.values()
            }
            self._revision = revision
        return True

    def _retry_due(self) -> bool:
        """A failed load is tried again every ``_RETRY_LOAD_S``: a re-registered artifact
        (the same content stored again) is picked up without a promote."""
        if not any(d.failed is not None for d in self._deployments.values()):
            return False
        now = time.monotonic()
        if now < self._retry_at:
            return False
        self._retry_at = now + _RETRY_LOAD_S
        return True

    def _wanted(self, snapshot: dict[tuple[str, str], int]) -> list[DeploymentSettings]:
        if self._configured:
            return self._configured
        models = sorted({model for (model, alias) in snapshot if alias == "production"})
        return [DeploymentSettings(name=m) for m in models]

    async def _reconcile(self, dep: Deployment, target: int | None) -> None:
        if target is None:
            dep.failed = None
            dep.error = (
                f"model '{dep.settings.model_name}' has no '{dep.settings.alias}' alias; "
                f"promote a version: bastion models promote {dep.settings.model_name} VERSION "
                f"--alias {dep.settings.alias}"
            )
            return
        if dep.current is not None and dep.current.version == target:
            return
        try:
            loaded = await load_version(
                self._registry, self._resources, dep.settings.model_name, target, dep.settings
            )
        except BastionError as exc:
            error = (
                f"version {target} failed to load ({exc.type}); the server log's "
                "deployment_load_failed line says why; it is tried again every "
                f"{_RETRY_LOAD_S:g}s (re-register a trusted copy of its artifact)"
            )
            again = dep.failed == target
            dep.error, dep.failed = error, target
            (log.debug if again else log.error)(
                "deployment_load_failed", deployment=dep.name, version=target, error=exc.message
            )
            return
        previous, dep.current, dep.error, dep.failed = dep.current, loaded, None, None
        log.info(
            "deployment_switched",
            deployment=dep.name,
            version=target,
            previous=previous.version if previous else None,
        )
        if previous is not None:
            self._retire(previous)

    async def pinned(self, name: str, version: int) -> LoadedVersion:
        """A specific version of a deployment's model (OIP ``/versions/{v}``), loaded on demand."""
        dep = self.get(name)
        if dep.current is not None and dep.current.version == version:
            return dep.current
        if version in dep.pinned:
            dep.pinned.move_to_end(version)
            return dep.pinned[version]
        async with self._lock:
            if version not in dep.pinned:
                dep.pinned[version] = await load_version(
                    self._registry, self._resources, dep.settings.model_name, version, dep.settings
                )
                while len(dep.pinned) > self._settings.max_loaded_versions:
                    _, evicted = dep.pinned.popitem(last=False)
                    self._retire(evicted)
        return dep.pinned[version]

    def _retire(self, loaded: LoadedVersion) -> None:
        async def close_later() -> None:
            await asyncio.sleep(_RETIRE_AFTER_S)
            await loaded.backend.aclose()

        task = asyncio.get_running_loop().create_task(close_later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    async def aclose(self) -> None:
        for task in list(self._retiring):
            task.cancel()
        for dep in self._deployments.values():
            for loaded in [dep.current, *dep.pinned.values()]:
                if loaded is not None:
                    await loaded.backend.aclose()
