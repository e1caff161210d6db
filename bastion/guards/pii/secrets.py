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
# A password inside a connection URL: scheme://user:PASSWORD@host.
_URL_PASSWORD = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@]{1,64}:(?P<s>[^\s@/]{1,128})@[\w.-]+"
)
# A password written in words: "my password is hunter2", "Passwort: Sommer2024!", "密码是…".
_WORD_PASSWORD = re.compile(
    r"(?i)\b(?:password|passwd|passcode|passphrase|pwd|pin(?: code)?|passwort|kennwort|"
    r"mot de passe|mdp|contraseña|clave|parola d'ordine|wachtwoord|hasło|haslo|senha)"
    r"(?:\s+(?:is|was|ist|war|est|es|era|è|je|é|is now|(?:for|of|to) (?:[\w.@-]+ ){1,3}?(?:is|was))"
    r"\s*[:=]?\s*|\s*[:=]\s*"
    r"|\s+(?=[^\s]*[\d!@#$%^&*]))"
    r"[\"'“«]?(?P<s>(?!(?:is|was|the|a|an|to|and|for|of|not|has|will|must|should|you|your|my|"
    r"this|that|here|below|above|needs|it|reset|change|changed|expired|policy|manager|field|"
    r"required|incorrect|wrong|strength|hint|protected)\b)[^\s\"'”»,;]{4,64})"
    r"|(?:密码|口令|パスワード)\s*(?:是|为|為|は|：|:)\s*(?P<c>[!-~]{4,64})"
)
_PASSWORD_CUES = ("pass", "pwd", "pin", "kennwort", "mdp", "contraseña", "clave", "parola",
                  "wachtwoord", "hasł", "hasl", "senha", "密码", "口令", "パスワード")  # fmt: skip
# An AWS secret access key on its own: 40 base64 characters, mixed case and digits.
_AWS_SECRET = re.compile(r"(?<![A-Za-z0-9/+=])(?P<s>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
_CUES = ("-----BEGIN", "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "_",
         "xox", "sk-", "AIza", "eyJ", "earer", "=", ":", "glpat-")  # fmt: skip


def find_secrets(text: str) -> Iterator[Entity]:
    yield from _special(text)
    if not any(cue in text for cue in _CUES):
        return
    for pattern, score, check_entropy in _PATTERNS:
        for m in pattern.finditer(text):
            group = "s" if "s" in pattern.groupindex else 0
            value = m.group(group)
            if check_entropy and not looks_random(value):
                continue
            yield Entity(SECRET, m.start(group), m.end(group), value, score)


def _special(text: str) -> Iterator[Entity]:
    if "://" in text:
        for m in _URL_PASSWORD.finditer(text):
            yield Entity(SECRET, m.start("s"), m.end("s"), m.group("s"), 0.9)
    lowered = text.lower()
    if not any(cue in lowered for cue in _PASSWORD_CUES):
        m_iter: Iterator[re.Match[str]] = iter(())
    else:
        m_iter = _WORD_PASSWORD.finditer(text)
    for m in m_iter:
        group = "s" if m.group("s") else "c"
        value = m.group(group).rstrip(".,?)")
        if value:
            yield Entity(SECRET, m.start(group), m.start(group) + len(value), value, 0.8)
    if len(text) >= 40:
        for m in _AWS_SECRET.finditer(text):
            value = m.group("s")
            if (
                any(c.isupper() for c in value)
                and any(c.islower() for c in value)
                and any(c.isdigit() for c in value)
                and looks_random(value, 4.0)
            ):
                yield Entity(SECRET, m.start(), m.end(), value, 0.75)
