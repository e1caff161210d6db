"""Batch and backfill jobs over files: local and Ray engines, a ledger for exactly-once runs."""

from bastion.jobs.entities import Job
from bastion.jobs.ledger import JobLedger
from bastion.jobs.scorer import ChunkScorer, JobHalted, ScorerLimits
from bastion.jobs.service import JobService

__all__ = ["ChunkScorer", "Job", "JobHalted", "JobLedger", "JobService", "ScorerLimits"]
