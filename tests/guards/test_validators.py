from __future__ import annotations

import pytest

from bastion.guards.pii.validators import (
    card_ok,
    iban_ok,
    ip_ok,
    looks_random,
    luhn_ok,
    shannon_entropy,
    ssn_ok,
)


@pytest.mark.parametrize("number", ["4111111111111111", "5500005555555559", "378282246310005"])
def test_luhn_accepts_valid_numbers(number: str) -> None:
    assert luhn_ok(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234567812345678", "378282246310006"])
def test_luhn_rejects_one_digit_off(number: str) -> None:
    assert not luhn_ok(number)


def test_card_needs_known_issuer_and_length() -> None:
    assert card_ok("4111111111111111")
    assert not card_ok("9111111111111119")  # no issuer starts with 9
    assert not card_ok("0000000000000000")  # passes Luhn, degenerate
    assert not card_ok("37828224631000")  # Amex prefix with 14 digits


@pytest.mark.parametrize(
    "iban", ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
)
def test_iban_mod97(iban: str) -> None:
    assert iban_ok(iban)
    assert not iban_ok(iban[:-1] + str((int(iban[-1]) + 1) % 10))


def test_iban_length_table() -> None:
    assert not iban_ok("DE8937040044053201300")  # one short for Germany
    assert not iban_ok("ZZ89370400440532013000")  # unknown country


def test_ssn_rules() -> None:
    assert ssn_ok("123", "45", "6789")
    for area, group, serial in [("000", "12", "3456"), ("666", "12", "3456"),
                                ("912", "12", "3456"), ("123", "00", "4567"),
                                ("123", "45", "0000")]:  # fmt: skip
        assert not ssn_ok(area, group, serial)


def test_ip_ok() -> None:
    assert ip_ok("192.168.0.1") and ip_ok("2001:db8::1")
    assert not ip_ok("256.1.1.1") and not ip_ok("1::2::3")


def test_entropy() -> None:
    assert shannon_entropy("aaaa") == 0.0
    assert looks_random("9f8e7d6c5b4a3f2e1d0cAB")
    assert not looks_random("your_api_key_here")
