"""Evaluation: versioned eval sets, scorers with slices, stored reports, approvals and the
promotion gates that every alias move passes (docs/evaluation.md)."""

from bastion.evaluation.entities import Approval, EvalReport, EvalRow, EvalSet, GateFailure
from bastion.evaluation.promotion import PromotionGuard, refusal
from bastion.evaluation.service import EvaluationService

__all__ = [
    "Approval",
    "EvalReport",
    "EvalRow",
    "EvalSet",
    "EvaluationService",
    "GateFailure",
    "PromotionGuard",
    "refusal",
]
