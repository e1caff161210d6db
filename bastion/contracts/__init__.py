"""Input/output contracts and structural limits on client JSON."""

from bastion.contracts.limits import check_limits
from bastion.contracts.schema import Contract

__all__ = ["Contract", "check_limits"]
