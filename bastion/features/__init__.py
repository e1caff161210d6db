"""Feature lookup: feature sources (the built-in table; Feast when installed), the enrich stage."""

from bastion.features.stage import EnrichStage, enrich
from bastion.features.table import BuiltinFeatures

__all__ = ["BuiltinFeatures", "EnrichStage", "enrich"]
