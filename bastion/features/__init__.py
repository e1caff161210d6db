"""Feature lookup: feature sources (the built-in table; Feast when installed), the enrich stage."""

from bastion.features.base import FeatureSource
from bastion.features.sources import feature_source
from bastion.features.stage import EnrichStage, enrich
from bastion.features.table import BuiltinFeatures

__all__ = ["BuiltinFeatures", "EnrichStage", "FeatureSource", "enrich", "feature_source"]
