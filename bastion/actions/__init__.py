"""The action layer: durable downstream actions (outbox, dispatcher, sagas, conflicts),
signed webhooks and CloudEvents out, event-driven inference in (docs/actions.md)."""

from bastion.actions.base import ActionConflict, ActionRejected, Destination, Outcome
from bastion.actions.service import ActionsService
from bastion.actions.stage import ActStage

__all__ = [
    "ActStage",
    "ActionConflict",
    "ActionRejected",
    "ActionsService",
    "Destination",
    "Outcome",
]
