"""Audit entries lose their PII before they are hashed and stored: every name and detail."""

from __future__ import annotations

from bastion.core.ids import mint_request_id
from bastion.guards.pii import HIGH_CONFIDENCE_TYPES, PiiDetector
from bastion.observability.audit import AuditLog, AuditQuery, verify_log
from bastion.observability.audit.scrub import EntryScrubber
from bastion.observability.audit.sql import SqlAuditStore
from bastion.settings.audit import AuditSettings
from bastion.store import Database
from tests.observability.audit.conftest import Clock, entry


def scrubber() -> EntryScrubber:
    return EntryScrubber(
        PiiDetector(types=(*HIGH_CONFIDENCE_TYPES, "name")).scrub, PiiDetector().scrub
    )


def test_every_client_controlled_field_is_scrubbed() -> None:
    raw = entry(
        1,
        deployment="bob@corp.example",
        actor_name="key for carol@corp.example",
        target="model:4111 1111 1111 1111",
        request_id="ann@corp.example",
        details={"model": "dave@corp.example", "note": ["call +44 20 7946 0958"], "n": 3},
    )
    clean = scrubber()(raw)
    assert (clean.deployment, clean.actor_name, clean.target, clean.request_id) == (
        "[EMAIL]",
        "key for [EMAIL]",
        "model:[CARD]",
        "[EMAIL]",
    )
    assert clean.details == {"model": "[EMAIL]", "note": ["call [PHONE]"], "n": 3}
    # what has no PII is the same object, untouched
    plain = entry(2)
    assert scrubber()(plain) is plain


async def test_the_log_stores_and_chains_the_scrubbed_entry(database: Database) -> None:
    store = SqlAuditStore(database)
    log = AuditLog(store, AuditSettings(), clock=Clock(), scrub=scrubber())
    try:
        await log.append(entry(0, deployment="eve@corp.example", status="error"))
        await log.admin("cli:frank@corp.example", "key.created", "key_1", {"name": "x"})
        records = await store.query(AuditQuery(limit=10))
        assert [r.deployment for r in records] == ["[EMAIL]", None]
        assert records[1].actor_name == "cli:[EMAIL]"
        assert (await verify_log(store)).ok  # the hash covers what is stored
    finally:
        await log.aclose()


def test_a_minted_request_id_is_stored_verbatim_without_a_scrub() -> None:
    seen: list[object] = []

    def names(value: object) -> object:
        seen.append(value)
        return PiiDetector(types=(*HIGH_CONFIDENCE_TYPES, "name")).scrub(value)

    rid = mint_request_id()
    raw = entry(1, request_id=rid, deployment="chat")
    clean = EntryScrubber(names)(raw)
    assert clean is raw and clean.request_id == rid  # nothing to change: not even rebuilt
    assert rid not in seen and "chat" in seen  # the other names are scrubbed as before


def test_a_client_request_id_is_scrubbed_even_in_the_safe_charset() -> None:
    # x-request-id accepts [A-Za-z0-9._:-]{1,64}: enough for a card number or an SSN
    for client, stored in (("4111-1111-1111-1111", "[CARD]"), ("ssn:219-09-9999", "ssn:[SSN]")):
        assert scrubber()(entry(1, request_id=client)).request_id == stored
        # a value derived from a minted id is client-like text again: it is scrubbed too
        derived = f"{mint_request_id()}:{client}"
        assert stored in str(scrubber()(entry(2, request_id=derived)).request_id)
