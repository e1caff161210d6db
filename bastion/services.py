"""Services: everything a running Bastion holds, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.backends.resources import Resources
    from bastion.caching import ResponseCache
    from bastion.gateway import Gateway
    from bastion.pipeline import Next
    from bastion.registry import ArtifactStore, Registry
    from bastion.routing import DeploymentManager
    from bastion.security import Authenticator, KeyStore
    from bastion.settings import Settings
    from bastion.store import Database


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    artifacts: ArtifactStore
    registry: Registry
    resources: Resources
    keys: KeyStore
    authenticator: Authenticator
    deployments: DeploymentManager
    gateway: Gateway
    cache: ResponseCache
    pipeline: Next
