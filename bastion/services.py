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


@dataclass(frozen=True, slots=True)
class Services:
    """What ``build_services`` built, in one record (frozen: nothing is added to it later).

    The first fields are always built (a concern that is switched off is still present, doing
    nothing: the alert manager without rules, the review service without policies); the
    optional ones are None when their concern is off.
    """

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
    review: ReviewService
    rollouts: RolloutService
    alerts: AlertManager
    governance: GovernanceRuntime
    guards: GuardPolicies
    evaluation: EvaluationService
    capacity: CapacityMeter
    data: DataService  # data contracts and the quarantine
    features: BuiltinFeatures
    async_requests: AsyncRequests
    refusals: RefusalRecorder  # 401/403/429 counted, audited, throttled
    openai_check: OpenAIRequestCheck  # OpenAI request bodies (contracts/openai)
    feature_source: FeatureSource  # what lookups and exports read (the table, or Feast)
    ownership: Ownership = field(default_factory=Ownership)  # tenant rules (core/ownership)
    metrics: Metrics | None = None  # observability.metrics_enabled
    tracing: Tracing | None = None  # observability: tracing_enabled or an OTLP endpoint
    audit: AuditLog | None = None  # audit.enabled
    encryptor: Encryptor | None = None  # encryption keys configured
    monitoring: MonitoringService | None = None  # monitoring.enabled, and its two parts:
    predictions: PredictionLog | None = None  # monitoring.predictions
    feedback: FeedbackStore | None = None  # monitoring.feedback
    jobs: JobService | None = None  # jobs.enabled
    batches: BatchService | None = None  # jobs.enabled: the OpenAI Files and Batch API
    actions: ActionsService | None = None  # actions, events or intake declared
    prompts: PromptService | None = None  # prompt templates (prompts.enabled)
    rag: RagService | None = None  # retrieval collections (rag.enabled)
