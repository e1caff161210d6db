"""Data contracts beyond the JSON schema, the quarantine, and schema-change detection."""

from bastion.data.service import QUARANTINED, DataService

__all__ = ["QUARANTINED", "DataService"]
