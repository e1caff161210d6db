"""Secret-shaped strings: cloud and SaaS credentials, JWTs, bearer tokens, private keys."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bastion.guards.pii.entity import SECRET, Entity
from bastion.guards.pii.validators import looks_random

# (pattern, score, validate-entropy?); group "s" (when present) is the secret part.
_PATTERNS: tuple[tuple[re.Pattern[str], float, bool], ...] = (
    (re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
                r"[\s\S]{16,}?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"), 0.99, False),
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"), 0.95, False),
    (re.compile(r"(?i)\baws.{0,24}?(?:secret|private)[\w ]{0,24}?[\"']?\s*[:=]\s*[\"']?"
                r"(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"), 0.95, False),
    (re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b"), 0.99, False),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b"), 0.99, False),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20}\b"), 0.95, False),
    (re.compile(r"\bxox[abposr]-(?:[A-Za-z0-9]+-){1,4}[A-Za-z0-9]{8,}\b"), 0.95, False),
    (re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"), 0.95, False),
    (re.compile(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-|ant-(?:api|admin)\d\d-)?"
                r"[A-Za-z0-9_-]{20,}(?![\w-])"), 0.9, True),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])"), 0.9, False),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}"), 0.95, False),
    (re.compile(r"\b[Bb]earer\s+(?P<s>[A-Za-z0-9._~+/-]{16,}=*)"), 0.85, True),
    (re.compile(r"(?i)(?:\b|_)(?:api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?(?:key|token)"
                r"|auth[_-]?token|client[_-]?secret|private[_-]?key|password|passwd|token)"
                r"[\"']?\s*[:=]\s*[\"']?(?P<s>[^\s\"'`,;]{16,})"), 0.8, True),
)  # fmt: skip
_CUES = ("-----BEGIN", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "_",
         "xox", "sk-", "AIza", "eyJ", "earer", "=", ":", "glpat-")  # fmt: skip


def find_secrets(text: str) -> Iterator[Entity]:
    if not any(cue in text for cue in _CUES):
        return
    for pattern, score, check_entropy in _PATTERNS:
        for m in pattern.finditer(text):
            group = "s" if "s" in pattern.groupindex else 0
            value = m.group(group)
            if check_entropy and not looks_random(value):
                continue
            yield Entity(SECRET, m.start(group), m.end(group), value, score)
