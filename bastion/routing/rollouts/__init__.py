"""Rollouts: shadow traffic, canaries with automatic rollback, and A/B tests (docs/rollouts.md)."""

from bastion.routing.rollouts.operations import RolloutOps
from bastion.routing.rollouts.service import RolloutService, Route
from bastion.routing.rollouts.stage import ARM_HEADER, RolloutStage

__all__ = ["ARM_HEADER", "RolloutOps", "RolloutService", "RolloutStage", "Route"]
