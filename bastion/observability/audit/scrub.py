"""PII scrubbing of audit entries: every free-text field, client-controlled names included.

Values Bastion minted itself (``MintedId``: a request id it generated) are kept verbatim: they
carry no user data, and a fresh id per request defeats every memo, so scrubbing them was most
of the audit append's CPU. A client-supplied ``x-request-id`` is a plain ``str`` and is
scrubbed like any name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from bastion.core.ids import MintedId
from bastion.observability.audit.record import AuditEntry

Scrub = Callable[[Any], Any]
"""Redacts PII in a string or a JSON-like value (``PiiDetector().scrub`` fits)."""

_MEMO_SIZE = 4096
_NAME_FIELDS = ("actor_name", "deployment", "target", "request_id", "tenant", "error_type")


class EntryScrubber:
    """Redacts PII in an entry before it is hashed and stored.

    ``names`` scrubs identifier-like fields (deployment, key and actor names, targets,
    request ids, tenants: a deployment called ``bob@corp.example`` is stored as ``[EMAIL]``);
    ``text`` scrubs the free-form ``details``. Names repeat on every request, so each distinct
    one is scrubbed once (a bounded memo on this object). A ``MintedId`` is not scrubbed.
    """

    def __init__(self, names: Scrub, text: Scrub | None = None) -> None:
        self._names = names
        self._text = text or names
        self._memo: dict[str, str] = {}

    def __call__(self, entry: AuditEntry) -> AuditEntry:
        changes: dict[str, Any] = {}
        for name in _NAME_FIELDS:
            value = getattr(entry, name)
            if isinstance(value, MintedId):
                continue  # stored as it is (the drivers take a str subclass as text)
            if isinstance(value, str) and value:
                clean = self._name(value)
                if clean != value:
                    changes[name] = clean
        if entry.details:
            details = self._details(entry.details)
            if details is not entry.details:  # the same object when nothing changed
                changes["details"] = details
        return dataclasses.replace(entry, **changes) if changes else entry

    def _name(self, value: str) -> str:
        found = self._memo.get(value)
        if found is None:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            found = self._memo[value] = str(self._names(value))
        return found

    def _details(self, details: Any) -> Any:
        """``details`` scrubbed: the very same object when that changes nothing in it (a
        container is copied only when something in it changed: a dict, or a list in place
        of a list or tuple)."""
        if isinstance(details, MintedId):
            return details
        if isinstance(details, str):
            return self._name(details) if len(details) <= 200 else str(self._text(details))
        if isinstance(details, dict):
            values = self._values(details.values())
            return details if values is None else dict(zip(details, values, strict=True))
        if isinstance(details, list | tuple):
            values = self._values(details)
            return details if values is None else values
        return details

    def _values(self, values: Iterable[Any]) -> list[Any] | None:
        """Each value scrubbed; None when that changed none of them. Numbers are passed
        over in the loop; a scrubbed string is compared by value (a name's scrub comes from
        the memo: an equal string, maybe another object)."""
        out, changed = [], False
        for value in values:
            if value.__class__ in _SCALARS:
                out.append(value)
                continue
            clean = self._details(value)
            if clean is not value and not (clean.__class__ is str and clean == value):
                changed = True
            out.append(clean)
        return out if changed else None


_SCALARS = frozenset({int, float, bool, type(None)})
