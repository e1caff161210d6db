"""The shared low layer: who is calling (Principal), by when (Deadline), time (Clock), and
the ids Bastion mints itself (MintedId).

Every concern and the pipeline's ``Call`` use these types; they import nothing of Bastion's
but ``errors``.
"""

from bastion.core.clock import Clock, FakeClock, SystemClock, utcnow
from bastion.core.deadline import Deadline
from bastion.core.ids import MintedId, mint_request_id
from bastion.core.ownership import SHARED, Ownership
from bastion.core.principal import ANONYMOUS, ROLES, Principal

__all__ = [
    "ANONYMOUS",
    "ROLES",
    "SHARED",
    "Clock",
    "Deadline",
    "FakeClock",
    "MintedId",
    "Ownership",
    "Principal",
    "SystemClock",
    "mint_request_id",
    "utcnow",
]
