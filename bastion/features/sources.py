"""The configured feature source: the built-in table, or Feast (imported only when chosen)."""

from __future__ import annotations

from bastion.features.base import FeatureSource
from bastion.features.table import BuiltinFeatures
from bastion.settings.features import FeaturesSettings


def feature_source(settings: FeaturesSettings, builtin: BuiltinFeatures) -> FeatureSource:
    """What the enrich stage and the training export read (``features.source``)."""
    if settings.source == "feast":
        from bastion.features.feast_store import FeastFeatures

        assert settings.feast_repo is not None, "the settings' validator requires it"
        return FeastFeatures(settings.feast_repo, {b.table for b in settings.bindings})
    return builtin
