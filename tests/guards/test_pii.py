from __future__ import annotations

import itertools
from typing import Any

import pytest

from bastion.guards.pii import ALL_TYPES, Entity, PiiDetector, resolve_overlaps


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector()


def found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(e.type, e.text) for e in detector.detect(text)]


POSITIVES = [
    ("Write to ana.lima+news@example.com.br today", "email", "ana.lima+news@example.com.br"),
    ("Call me on (415) 555-2671 tonight", "phone", "(415) 555-2671"),
    ("Office: +44 20 7946 0958", "phone", "+44 20 7946 0958"),
    ("Ruf an: 030 23125100", "phone", "030 23125100"),
    ("Card 4111 1111 1111 1111 exp 12/29", "card", "4111 1111 1111 1111"),
    ("Amex 3782-822463-10005 please", "card", "3782-822463-10005"),
    ("Wire to DE89 3704 0044 0532 0130 00 now", "iban", "DE89 3704 0044 0532 0130 00"),
    ("IBAN GB82WEST12345698765432.", "iban", "GB82WEST12345698765432"),
    ("SSN 123-45-6789 on file", "ssn", "123-45-6789"),
    ("ssn: 536221234", "ssn", "536221234"),
    ("from 203.0.113.77 at noon", "ip", "203.0.113.77"),
    ("host 2001:db8::8a2e:370:7334 is up", "ip", "2001:db8::8a2e:370:7334"),
    ("key AKIAIOSFODNN7EXAMPLE leaked", "secret", "AKIAIOSFODNN7EXAMPLE"),
    ("token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789", "secret",
     "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"),
    ("slack xoxb-2048123456-4096123456-aB3cD4eF5gH6", "secret",
     "xoxb-2048123456-4096123456-aB3cD4eF5gH6"),
    ("STRIPE=sk_live_51HqLyjWDarjtT1zdp7dc", "secret", "sk_live_51HqLyjWDarjtT1zdp7dc"),
    ("OPENAI_API_KEY=sk-proj-Ab3dEf9hIjK1mNoP4rStUvWx", "secret",
     "sk-proj-Ab3dEf9hIjK1mNoP4rStUvWx"),
    ("Authorization: Bearer a8F3kL0pQ9zX2mN7vB4cR6tY", "secret", "a8F3kL0pQ9zX2mN7vB4cR6tY"),
    ("api_key = '9f8e7d6c5b4a3f2e1d0c9b8aZ'", "secret", "9f8e7d6c5b4a3f2e1d0c9b8aZ"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "secret",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("My name is Maria Lopez and I need help", "name", "Maria Lopez"),
    ("Dear Mrs. Garcia, thank you", "name", "Garcia"),
    ("Ship to 742 Evergreen Terrace, Springfield, IL 62704.", "address",
     "742 Evergreen Terrace, Springfield, IL 62704"),
    ("Ich wohne in der Hauptstraße 5 in Berlin", "address", "Hauptstraße 5"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "kind", "value"), POSITIVES)
def test_detects(detector: PiiDetector, text: str, kind: str, value: str) -> None:
    assert (kind, value) in found(detector, text)


def test_jwt_and_pem(detector: PiiDetector) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlF"
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq98Hq2\n-----END RSA PRIVATE KEY-----"
    assert found(detector, f"token {jwt} end") == [("secret", jwt)]
    assert found(detector, f"key:\n{pem}\nbye") == [("secret", pem)]


NEGATIVES = [
    "Order number 4111111111111112 has shipped",  # fails Luhn
    "Transaction id 1234 5678 9012 3456 was declined",
    "The IBAN DE89 3704 0044 0532 0130 01 was rejected",  # fails mod-97
    "Product code DE12 3456 7890 1234 5678 90 is in stock",
    "Invalid SSNs: 000-12-3456, 666-12-3456, 900-12-3456, 123-00-4567, 123-45-0000",
    "Release v1.2.3.4 and section 4.2.1.3; 256.300.1.1 is not an address",
    "The time is 12:30:45 and std::vector is a class",
    "Set api_key = your_api_key_here in the config",
    "We use scikit-learn, not sk-learn",
    "The bearer of this letter is my cousin",
    "Invoice INV-2023-000451, ZIP 94105-1234, build 1234567890",
    "Follow @acme and use the @property decorator",
    "Hi Team, I am Happy to help. Dear Customer, thanks.",
    "git clone git@github.com:acme/widgets.git",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_does_not_flag(detector: PiiDetector, text: str) -> None:
    assert found(detector, text) == []


def test_overlaps_resolved_by_priority() -> None:
    card = Entity("card", 5, 24, "4111 1111 1111 1111", 0.95)
    phone = Entity("phone", 5, 14, "4111 1111", 0.85)
    later = Entity("email", 30, 40, "a@b.co", 0.95)
    assert resolve_overlaps([phone, later, card]) == [card, later]


def test_detect_is_non_overlapping_and_ordered(detector: PiiDetector) -> None:
    text = (
        "Refund 4526018159083012 to jane@example.com, IBAN DE89370400440532013000, +1 415-555-2671"
    )
    entities = detector.detect(text)
    assert [e.type for e in entities] == ["card", "email", "iban", "phone"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(entities))
    assert all(text[e.start : e.end] == e.text for e in entities)


def test_redact(detector: PiiDetector) -> None:
    text = "Mail bob@corp.example or call (415) 555-2671; card 4111-1111-1111-1111."
    result = detector.redact(text)
    assert result.text == "Mail [EMAIL] or call [PHONE]; card [CARD]."
    assert [e.type for e in result.entities] == ["email", "phone", "card"]
    masked = detector.redact("mail bob@corp.example", style="mask").text
    assert masked == "mail " + "*" * len("bob@corp.example")


def test_types_filter() -> None:
    only_email = PiiDetector(types=["email"])
    assert only_email.types == ("email",)
    assert found(only_email, "bob@corp.example 4111 1111 1111 1111") == [
        ("email", "bob@corp.example")
    ]
    with pytest.raises(ValueError, match="unknown PII types"):
        PiiDetector(types=["passport"])


def test_scrub_nested_json(detector: PiiDetector) -> None:
    payload = {
        "user": {"email": "ann@example.org", "age": 41, "tags": ["vip", "call +44 20 7946 0958"]},
        "items": ({"note": "card 4111111111111111"}, None, True),
        "ok": "nothing here",
    }
    scrubbed = detector.scrub(payload)
    assert scrubbed == {
        "user": {"email": "[EMAIL]", "age": 41, "tags": ["vip", "call [PHONE]"]},
        "items": ({"note": "card [CARD]"}, None, True),
        "ok": "nothing here",
    }
    assert payload["user"]["email"] == "ann@example.org"  # type: ignore[index]


def test_scrub_numeric_sequences_gives_what_a_walk_gives(detector: PiiDetector) -> None:
    """The fast path for lists of numbers (an embedding) returns what visiting each element
    returns: equal values, a new list, the same types; text in a sequence is still walked."""

    class Label(str):
        pass

    def walk(obj: Any) -> Any:  # the scrub without its fast path
        if isinstance(obj, str):
            return detector.redact(obj).text
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return type(obj)(walk(v) for v in obj)
        return obj

    embedding = [0.25 * i - 40 for i in range(384)]
    cases: list[Any] = [
        {"data": [{"embedding": embedding, "index": 0}], "model": "m"},
        [1, 2.5, True, None, float("inf")],
        (3, False, None),
        [],
        [[0.1, 0.2], [0.3, "call +44 20 7946 0958"]],
        [1.0, 2.0, "ann@example.org"],
        [1, Label("bob@corp.example")],  # a str subclass is text: walked
        [[1, 2], (3, 4)],
    ]
    for case in cases:
        got, want = detector.scrub(case), walk(case)
        assert got == want and repr(got) == repr(want)
        assert type(got) is type(case)
    assert detector.scrub(embedding) is not embedding  # a copy, as before
    assert detector.scrub([1, Label("bob@corp.example")]) == [1, "[EMAIL]"]


def test_counts_and_all_types(detector: PiiDetector) -> None:
    assert set(detector.types) == set(ALL_TYPES)
    assert detector.counts(["a@b.example and c@d.example", "SSN 123-45-6789"]) == {
        "email": 2,
        "ssn": 1,
    }
