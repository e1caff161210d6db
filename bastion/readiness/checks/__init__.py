"""Every readiness item, by section, in the order a report lists them."""

from bastion.readiness.base import Check
from bastion.readiness.checks import cost, data, model, observability, operations, reliability
from bastion.readiness.checks import security as security_checks

ALL_CHECKS: list[Check] = [
    *reliability.CHECKS,
    *observability.CHECKS,
    *security_checks.CHECKS,
    *cost.CHECKS,
    *operations.CHECKS,
    *data.CHECKS,
    *model.CHECKS,
]

__all__ = ["ALL_CHECKS"]
