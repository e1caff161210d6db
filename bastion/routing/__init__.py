"""Routing: deployments bound to registry aliases, and the versions loaded behind them."""

from bastion.routing.deployments import Deployment, DeploymentManager
from bastion.routing.loaded import LoadedVersion, load_version

__all__ = ["Deployment", "DeploymentManager", "LoadedVersion", "load_version"]
