"""Prompt-injection screening: normalisation, multilingual rules, an embedding classifier."""

from bastion.guards.injection.classifier import EmbeddingClassifier, training_path
from bastion.guards.injection.model import ScreenModel
from bastion.guards.injection.normalize import Normalized, normalize
from bastion.guards.injection.rules import RuleResult, score_rules
from bastion.guards.injection.screen import (
    DEFAULT_THRESHOLD,
    InjectionScreen,
    InjectionVerdict,
    default_screen,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "EmbeddingClassifier",
    "InjectionScreen",
    "InjectionVerdict",
    "Normalized",
    "RuleResult",
    "ScreenModel",
    "default_screen",
    "normalize",
    "score_rules",
    "training_path",
]
