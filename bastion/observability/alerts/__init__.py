"""Alerting: rules over live signals, evaluated in every process, deduped in the database."""

from bastion.observability.alerts.history import Alert, AlertHistory, NewAlert
from bastion.observability.alerts.manager import AlertManager
from bastion.observability.alerts.notify import Notification, Notifier
from bastion.observability.alerts.rules import Measure, recommended_rules
from bastion.observability.alerts.signals import SignalRecorder, WindowStats
from bastion.observability.alerts.sources import Source
from bastion.observability.alerts.stage import SignalStage

__all__ = [
    "Alert",
    "AlertHistory",
    "AlertManager",
    "Measure",
    "NewAlert",
    "Notification",
    "Notifier",
    "SignalRecorder",
    "SignalStage",
    "Source",
    "WindowStats",
    "recommended_rules",
]
