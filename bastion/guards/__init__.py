"""Guards on the request path: PII detection/redaction and prompt-injection screening."""

from bastion.guards.injection import InjectionScreen, InjectionVerdict, default_screen
from bastion.guards.pii import Entity, PiiDetector, RedactedText
from bastion.guards.stage import GuardPolicy, GuardStage

__all__ = [
    "Entity",
    "GuardPolicy",
    "GuardStage",
    "InjectionScreen",
    "InjectionVerdict",
    "PiiDetector",
    "RedactedText",
    "default_screen",
]
