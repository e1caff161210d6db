"""What ships for users' own tests and drills: the fault-injecting OpenAI-protocol upstream."""

from bastion.testing.fault_upstream import FaultUpstream, running_upstream
from bastion.testing.faults import FAULT_PARAMS, Fault, FaultBook, pseudo_embedding

__all__ = [
    "FAULT_PARAMS",
    "Fault",
    "FaultBook",
    "FaultUpstream",
    "pseudo_embedding",
    "running_upstream",
]
