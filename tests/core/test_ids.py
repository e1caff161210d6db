"""MintedId: only Bastion makes one, and only for values it generated (request ids)."""

from __future__ import annotations

import re
from pathlib import Path

import bastion
from bastion.core.ids import MintedId, mint_request_id


def test_a_minted_request_id_is_typed_unique_and_hex() -> None:
    ids = {mint_request_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(isinstance(i, MintedId) and re.fullmatch(r"[0-9a-f]{24}", i) for i in ids)


def test_what_is_derived_from_a_minted_id_is_a_plain_str() -> None:
    rid = mint_request_id()
    for derived in (f"{rid}:shadow", rid + "x", rid[:8], str(rid), rid.upper()):
        assert type(derived) is str  # so the audit scrubs it like any client text


def test_only_the_ids_module_constructs_a_minted_id() -> None:
    """The type is the audit's proof that a value holds no user data (it is stored without a
    PII scrub): wrapping a client-supplied value in it anywhere else would let that value
    reach storage raw."""
    root = Path(bastion.__file__).parent
    makers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"\bMintedId\(", path.read_text(encoding="utf-8"))
    )
    assert makers == ["core/ids.py"]
