"""Rate limits: exact sliding windows or GCRA, in memory (one node) or Redis (a cluster)."""

from bastion.governance.ratelimit.base import Check, Decision, Limiter, Quota
from bastion.governance.ratelimit.fallback import FallbackLimiter
from bastion.governance.ratelimit.memory import MemoryLimiter
from bastion.governance.ratelimit.policy import LimitRule, RateLimitPolicy, rate_limit_headers
from bastion.governance.ratelimit.window import WindowMemoryLimiter

__all__ = [
    "Check",
    "Decision",
    "FallbackLimiter",
    "LimitRule",
    "Limiter",
    "MemoryLimiter",
    "Quota",
    "RateLimitPolicy",
    "WindowMemoryLimiter",
    "rate_limit_headers",
]
