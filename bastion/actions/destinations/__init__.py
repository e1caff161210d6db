"""Destinations by kind: http, webhook (signed http), sql, nats, python."""

from __future__ import annotations

from bastion.actions.base import Destination
from bastion.actions.destinations.http import HttpDestination
from bastion.actions.destinations.nats import NatsDestination
from bastion.actions.destinations.python_fn import PythonDestination
from bastion.actions.destinations.sql import SqlDestination
from bastion.settings.actions import DestinationSettings

__all__ = ["build_destination"]


def build_destination(name: str, settings: DestinationSettings) -> Destination:
    """The destination of ``settings.kind``; credentials are read (and checked) here."""
    if settings.kind in ("http", "webhook"):
        return HttpDestination(name, settings)
    if settings.kind == "sql":
        return SqlDestination(name, settings)
    if settings.kind == "nats":
        return NatsDestination(name, settings)
    return PythonDestination(name, settings)
