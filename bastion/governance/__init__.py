"""Governance: rate limits, quotas, token and cost budgets, pricing; the admit stage."""

from bastion.governance.budget import (
    BudgetPolicy,
    BudgetRule,
    BudgetStore,
    BudgetThresholdCrossed,
    MemoryBudgets,
    PriceTable,
    Reservation,
    Usage,
)
from bastion.governance.config import Governance
from bastion.governance.outage import StoreUnavailable
from bastion.governance.ratelimit import (
    Decision,
    Limiter,
    LimitRule,
    MemoryLimiter,
    Quota,
    RateLimitPolicy,
)
from bastion.governance.stage import AdmitStage
from bastion.governance.subject import Subject

__all__ = [
    "AdmitStage",
    "BudgetPolicy",
    "BudgetRule",
    "BudgetStore",
    "BudgetThresholdCrossed",
    "Decision",
    "Governance",
    "LimitRule",
    "Limiter",
    "MemoryBudgets",
    "MemoryLimiter",
    "PriceTable",
    "Quota",
    "RateLimitPolicy",
    "Reservation",
    "StoreUnavailable",
    "Subject",
    "Usage",
]
