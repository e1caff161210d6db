"""Who may retrieve a document, and which documents a metadata filter selects — one rule,
written twice: as SQL (``visible_clause``, the authority, inside every fetch) and in memory
(``DocFacts.visible_to``, the search mask of the in-process index). Tests hold them equal."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select, true

from bastion.core.principal import Principal
from bastion.errors import InvalidRequest
from bastion.store.rag_tables import RagAclRow, RagDocumentRow, RagMetaRow

MAX_FILTER_KEYS = 20
MAX_FILTER_VALUES = 100


def encode_value(value: Any) -> str:
    """A metadata value as stored and matched: its canonical JSON text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)[:500]


def meta_values(meta: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """The filterable values of a document's metadata: scalars, and each item of a list."""
    out: dict[str, frozenset[str]] = {}
    for key, value in meta.items():
        items = value if isinstance(value, list) else [value]
        found = {encode_value(v) for v in items if v is None or isinstance(v, str | int | float)}
        if found:
            out[str(key)[:100]] = frozenset(found)
    return out


def parse_filters(filters: Mapping[str, Any] | None) -> dict[str, frozenset[str]]:
    """``{key: value | [values]}`` → ``{key: encoded values}``; 422 for what cannot match."""
    if not filters:
        return {}
    if not isinstance(filters, Mapping) or len(filters) > MAX_FILTER_KEYS:
        raise InvalidRequest(
            f"filters: an object of at most {MAX_FILTER_KEYS} metadata keys",
            details={"field": "filters"},
        )
    out: dict[str, frozenset[str]] = {}
    for key, value in filters.items():
        items = value if isinstance(value, list) else [value]
        if (
            not items
            or len(items) > MAX_FILTER_VALUES
            or not all(v is None or isinstance(v, str | int | float) for v in items)
        ):
            raise InvalidRequest(
                f"filters.{key}: a string, number, boolean or null, or a list of 1-"
                f"{MAX_FILTER_VALUES} of them",
                details={"field": f"filters.{key}"},
            )
        out[str(key)] = frozenset(encode_value(v) for v in items)
    return out


def principal_entries(principal: Principal) -> frozenset[str]:
    """The access-list entries that name ``principal``."""
    entries = {f"key:{principal.key_id}", f"tenant:{principal.tenant}"}
    entries.update(f"role:{r}" for r in principal.roles)
    if principal.team:
        entries.add(f"team:{principal.team}")
    return frozenset(entries)


def check_acl(acl: Iterable[str] | None) -> list[str] | None:
    if acl is None:
        return None
    out = sorted({str(a).strip() for a in acl if str(a).strip()})
    for entry in out:
        kind, _, name = entry.partition(":")
        if kind not in ("key", "team", "role", "tenant") or not name or len(entry) > 300:
            raise InvalidRequest(
                f"acl: {entry!r} is not key:ID, team:NAME, role:NAME or tenant:NAME",
                details={"field": "acl"},
            )
    return out or None


@dataclass(frozen=True, slots=True)
class DocFacts:
    """What the in-process index knows of a document to decide visibility and filters."""

    tenant: str | None
    acl: frozenset[str] | None
    meta: Mapping[str, frozenset[str]]

    def visible_to(
        self, principal: Principal, entries: frozenset[str], filters: dict[str, frozenset[str]]
    ) -> bool:
        if not principal.is_admin:
            if self.tenant is not None and self.tenant != principal.tenant:
                return False
            if self.acl is not None and not (self.acl & entries):
                return False
        return all(self.meta.get(key, frozenset()) & want for key, want in filters.items())


def visible_clause(
    collection_id: int, principal: Principal, filters: dict[str, frozenset[str]]
) -> ColumnElement[bool]:
    """The SQL condition on ``rag_documents`` equal to ``DocFacts.visible_to``."""
    doc = RagDocumentRow
    parts: list[ColumnElement[bool]] = [doc.collection_id == collection_id]
    if not principal.is_admin:
        parts.append(or_(doc.tenant.is_(None), doc.tenant == principal.tenant))
        any_acl = exists(select(RagAclRow.entry).where(RagAclRow.document_id == doc.id))
        matched = exists(
            select(RagAclRow.entry).where(
                RagAclRow.document_id == doc.id,
                RagAclRow.entry.in_(sorted(principal_entries(principal))),
            )
        )
        parts.append(or_(not_(any_acl), matched))
    for key, want in filters.items():
        parts.append(
            exists(
                select(RagMetaRow.key).where(
                    RagMetaRow.document_id == doc.id,
                    RagMetaRow.key == key,
                    RagMetaRow.value.in_(sorted(want)),
                )
            )
        )
    return and_(true(), *parts)
