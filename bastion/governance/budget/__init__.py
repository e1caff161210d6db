"""Quotas and budgets: reserve, then commit or release, per calendar window; and prices."""

from bastion.governance.budget.base import (
    BucketUsage,
    BudgetStore,
    BudgetThresholdCrossed,
    Reservation,
    Usage,
)
from bastion.governance.budget.fallback import FallbackBudgets
from bastion.governance.budget.memory_store import MemoryBudgets
from bastion.governance.budget.policy import BudgetPolicy, BudgetRule, BudgetTarget, usd_to_micros
from bastion.governance.budget.prices import ModelPrice, PriceTable

__all__ = [
    "BucketUsage",
    "BudgetPolicy",
    "BudgetRule",
    "BudgetStore",
    "BudgetTarget",
    "BudgetThresholdCrossed",
    "FallbackBudgets",
    "MemoryBudgets",
    "ModelPrice",
    "PriceTable",
    "Reservation",
    "Usage",
    "usd_to_micros",
]
