"""Adaptive micro-batching for in-process models."""

from bastion.batching.micro import MicroBatcher

__all__ = ["MicroBatcher"]
