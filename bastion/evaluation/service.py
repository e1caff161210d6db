"""The evaluation service: eval sets, runs, reports, approvals and the promotion guard, built
once by the composition root (or the CLI) over one database and artifact store."""

from __future__ import annotations

from bastion.core.ownership import Ownership
from bastion.evaluation.approvals import ApprovalStore
from bastion.evaluation.base import Loader, ShadowSource
from bastion.evaluation.gates import Gates
from bastion.evaluation.pins import GatePins
from bastion.evaluation.promotion import PromotionGuard
from bastion.evaluation.reports import ReportStore
from bastion.evaluation.runner import EvalRunner
from bastion.evaluation.separation import Separation
from bastion.evaluation.sets import EvalSetStore
from bastion.registry import Artifacts, ArtifactStore, Registry
from bastion.settings.evaluation import EvaluationSettings
from bastion.store import Database

# security.global_operators / global_approvers' defaults, for callers that pass none
DEFAULT_OWNERSHIP = Ownership.of(("tenant:default",), ("tenant:default",))


class EvaluationService:
    def __init__(
        self,
        settings: EvaluationSettings,
        db: Database,
        registry: Registry,
        artifacts: ArtifactStore | Artifacts,
        loader: Loader,
        *,
        shadow: ShadowSource | None = None,
        ownership: Ownership | None = None,
    ) -> None:
        self.settings = settings
        self.sets = EvalSetStore(db, artifacts, max_bytes=settings.max_set_bytes)
        self.reports = ReportStore(db)
        self.approvals = ApprovalStore(db)
        self.runner = EvalRunner(settings, registry, self.sets, self.reports, loader)
        self.ownership = ownership or DEFAULT_OWNERSHIP
        self.pins = GatePins(db)
        self.separation = Separation(self.sets, self.approvals, self.pins, self.ownership)
        self.gates = Gates(
            settings,
            registry,
            self.sets,
            self.reports,
            self.approvals,
            shadow,
            separation=self.separation,
        )
        self.guard = PromotionGuard(self.gates)

    def attach_shadow(self, source: ShadowSource) -> None:
        """The rollouts' shadow stats, for ``shadow_agreement`` gates (built after this)."""
        self.gates.shadow = source
