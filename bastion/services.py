"""Services: everything a running Bastion holds, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bastion.core.ownership import Ownership

if TYPE_CHECKING:
    from bastion.actions import ActionsService
    from bastion.actions.async_requests import AsyncRequests
    from bastion.backends.resources import Resources
    from bastion.caching import ResponseCache
    from bastion.contracts.openai import OpenAIRequestCheck
    from bastion.data import DataService
    from bastion.evaluation import EvaluationService
    from bastion.features import BuiltinFeatures, FeatureSource
    from bastion.gateway import Gateway
    from bastion.governance.runtime import GovernanceRuntime
    from bastion.guards.policies import GuardPolicies
    from bastion.jobs import JobService
    from bastion.jobs.batches import BatchService
    from bastion.monitoring.feedback import FeedbackStore
    from bastion.monitoring.predictions import PredictionLog
    from bastion.monitoring.service import MonitoringService
    from bastion.observability import Metrics, Tracing
    from bastion.observability.alerts import AlertManager
    from bastion.observability.audit import AuditLog
    from bastion.observability.capacity import CapacityMeter
    from bastion.pipeline import Next
    from bastion.prompts import PromptService
    from bastion.rag import RagService
    from bastion.registry import Artifacts, Registry
    from bastion.review import ReviewService
    from bastion.routing import DeploymentManager
    from bastion.routing.rollouts import RolloutService
    from bastion.security import Authenticator, KeyStore
    from bastion.security.encryption import Encryptor
    from bastion.security.refusals import RefusalRecorder
    from bastion.settings import Settings
    from bastion.store import Database


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    artifacts: Artifacts
    registry: Registry
    resources: Resources
    keys: KeyStore
    authenticator: Authenticator
    deployments: DeploymentManager
    gateway: Gateway
    cache: ResponseCache
    pipeline: Next
    review: ReviewService | None = None
    metrics: Metrics | None = None
    tracing: Tracing | None = None
    rollouts: RolloutService | None = None
    alerts: AlertManager | None = None
    governance: GovernanceRuntime | None = None
    guards: GuardPolicies | None = None
    audit: AuditLog | None = None
    encryptor: Encryptor | None = None
    monitoring: MonitoringService | None = None
    predictions: PredictionLog | None = None
    feedback: FeedbackStore | None = None
    evaluation: EvaluationService | None = None
    capacity: CapacityMeter | None = None
    jobs: JobService | None = None
    data: DataService | None = None
    batches: BatchService | None = None
    features: BuiltinFeatures | None = None
    feature_source: FeatureSource | None = None  # what lookups and exports read (or Feast)
    actions: ActionsService | None = None
    async_requests: AsyncRequests | None = None
    ownership: Ownership = field(default_factory=Ownership)  # tenant rules (core/ownership)
    refusals: RefusalRecorder | None = None  # 401/403/429 counted, audited, throttled
    openai_check: OpenAIRequestCheck | None = None  # OpenAI request bodies (contracts/openai)
    prompts: PromptService | None = None  # prompt templates (prompts.enabled)
    rag: RagService | None = None  # retrieval collections (bastion/rag)
