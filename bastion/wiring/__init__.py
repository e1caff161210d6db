"""The composition root's parts: what ``create_app`` (bastion/app.py) builds, wires and closes.

``services.build_services`` builds every service once, in dependency order; ``data_layer``
the data contracts, feature lookup, jobs and batches; ``alert_sources`` the alert manager's
pull sources; ``prompts`` and ``rag`` those services; ``routes`` the routers, handlers and
middleware in their order; ``close.close_services`` stops them all. Nothing here runs at
import time.
"""

from bastion.wiring.close import close_services
from bastion.wiring.services import build_services

__all__ = ["build_services", "close_services"]
