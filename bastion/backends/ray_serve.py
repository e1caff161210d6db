"""A model on Ray Serve (``runtime: ray-serve``): the gateway keeps authentication, limits,
guards, audit and the rest of the pipeline; only ``infer`` crosses to a Ray Serve deployment,
which has its own replicas and autoscales on ongoing requests (the ``ray`` extra).

One Serve application per model version (``bastion-<model>-v<version>``), reached through a
``DeploymentHandle`` (no Serve HTTP proxy is started); closing the backend deletes it. The
replicas read the artifact from the path the gateway verified: on a multi-host Ray cluster
that path must be on storage the Ray nodes share (docs/scaling.md)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

import structlog

from bastion.backends.base import ModelSpec, Prediction
from bastion.backends.ray_replica import ServedModel
from bastion.errors import ConfigError, ModelNotReady
from bastion.settings.core import RayServeSettings

log = structlog.get_logger(__name__)


def _app_name(spec: ModelSpec) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"bastion-{spec.name}-v{spec.version}")


def _ensure_ray(settings: RayServeSettings) -> Any:
    try:
        import ray
        from ray import serve
    except ImportError as exc:
        raise ConfigError(
            "runtime: ray-serve needs Ray Serve: pip install 'bastion[ray]' (ray[serve])"
        ) from exc
    if not ray.is_initialized():
        ray.init(
            address=settings.address,
            include_dashboard=False,
            ignore_reinit_error=True,
            log_to_driver=False,
        )
    serve.start(proxy_location="Disabled")
    return serve


class RayServeBackend:
    """Implements ``Backend``: ``load`` deploys, ``infer`` calls a replica, ``aclose`` deletes."""

    def __init__(self, spec: ModelSpec, settings: RayServeSettings) -> None:
        self._spec = spec
        self._settings = settings
        self._name = _app_name(spec)
        self._handle: Any = None

    @property
    def app_name(self) -> str:
        return self._name

    async def load(self) -> None:
        await asyncio.to_thread(self._deploy)
        log.info("ray_serve_deployed", app=self._name, model=self._spec.name)

    def _deploy(self) -> None:
        serve = _ensure_ray(self._settings)
        cfg = self._settings
        deployment = serve.deployment(
            ServedModel,
            name=self._name,
            ray_actor_options={"num_cpus": cfg.num_cpus},
            max_ongoing_requests=cfg.max_ongoing_requests,
            autoscaling_config={
                "min_replicas": cfg.min_replicas,
                "initial_replicas": max(cfg.min_replicas, 1),
                "max_replicas": max(cfg.max_replicas, cfg.min_replicas, 1),
                "target_ongoing_requests": cfg.target_ongoing_requests,
            },
        )
        self._handle = serve.run(deployment.bind(self._spec), name=self._name, route_prefix=None)

    async def infer(self, inputs: Sequence[Any]) -> list[Prediction]:
        if self._handle is None:
            raise ModelNotReady(f"the Ray Serve deployment {self._name} is not running yet")
        found: list[Prediction] = await self._handle.infer.remote(list(inputs))
        return found

    async def aclose(self) -> None:
        if self._handle is None:
            return
        self._handle = None
        from ray import serve

        await asyncio.to_thread(serve.delete, self._name)
