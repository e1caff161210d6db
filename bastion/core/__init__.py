"""The shared low layer: who is calling (Principal), by when (Deadline), and time (Clock).

Every concern and the pipeline's ``Call`` use these types; they import nothing of Bastion's
but ``errors``.
"""

from bastion.core.clock import Clock, FakeClock, SystemClock, utcnow
from bastion.core.deadline import Deadline
from bastion.core.ownership import SHARED, Ownership
from bastion.core.principal import ANONYMOUS, ROLES, Principal

__all__ = [
    "ANONYMOUS",
    "ROLES",
    "SHARED",
    "Clock",
    "Deadline",
    "FakeClock",
    "Ownership",
    "Principal",
    "SystemClock",
    "utcnow",
]
