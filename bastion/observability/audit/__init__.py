"""The tamper-evident audit log: hash-chained records, group commit, the audit stage, verify."""

from bastion.observability.audit.base import AuditQuery, AuditStore
from bastion.observability.audit.export import (
    RotationReport,
    export_jsonl,
    record_from_json,
    record_json,
    rotate_payloads,
)
from bastion.observability.audit.log import AuditLog
from bastion.observability.audit.record import (
    GENESIS,
    AuditEntry,
    AuditRecord,
    canonical,
    sha256_json,
)
from bastion.observability.audit.stage import AuditStage
from bastion.observability.audit.verify import ChainBreak, VerifyReport, verify_log, verify_records

__all__ = [
    "GENESIS",
    "AuditEntry",
    "AuditLog",
    "AuditQuery",
    "AuditRecord",
    "AuditStage",
    "AuditStore",
    "ChainBreak",
    "RotationReport",
    "VerifyReport",
    "canonical",
    "export_jsonl",
    "record_from_json",
    "record_json",
    "rotate_payloads",
    "sha256_json",
    "verify_log",
    "verify_records",
]
