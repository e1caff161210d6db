"""The pre-screens skip only recognizers that cannot match: detection is unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources

import pytest

from bastion.guards.pii import PiiDetector, context, detector, names, phone, places
from bastion.guards.pii.prescreen import Traits, traits

TRICKY = [
    "hello there, nothing to see",
    "call me at 0171 2345678 tomorrow",
    "x² and y³ at 建国路八十八号",  # isdigit but no \d: the address finder still runs
    "hello 王小明先生, see you",  # lower-case Latin beside CJK
    "ask Sarah's brother, or ping Jean-Pierre Dupont",
    "I moved from St. Louis to Saint-Étienne and then to New York.",
    "Mein Name ist Jürgen Weber.",
    "Dear Mr. O'Brien, thanks. Regards, Anna Kowalska",
    "dear mr. o'brien: name: anna",
    "Hi Emily Carter, this is Tom Baxter from Den Haag",
    "Łukaszowi Nowakowi dałem klucze; Annę spotkałem w Krakowie",
    "ip dead:beef::cafe:1 and 10.0.0.1, version 1.2.3.4",
    "ÉLODIE FONTAINE lives in PARIS; Élodie Fontaine lives in Paris",
    "Kowalska Anna, ul. Floriańska 15, 31-019 Kraków",
    "Patient: John Smith, born on 12/03/1985, ssn 123-45-6789",
]


def _labelled_texts() -> Iterator[str]:
    data = resources.files("bastion.guards").joinpath("data")
    for name in ("pii_dev.jsonl", "pii_eval.jsonl", "pii_eval_multilingual.jsonl"):
        for line in data.joinpath(name).read_text("utf-8").splitlines():
            if line.strip():
                yield json.loads(line)["text"]


def _corpus() -> list[str]:
    texts = [*TRICKY, *_labelled_texts()]
    return [*texts, *(t.lower() for t in texts), *(t.upper() for t in texts)]


def test_the_prescreens_change_no_result(monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus()
    gated = [PiiDetector(memo=0).detect(t) for t in corpus]
    # Every pre-screen says "maybe": each recognizer runs in full on every text.
    every = Traits(digit=True, isdigit=True, cjk=True, capital_runs=("Xx-",))
    monkeypatch.setattr(detector, "traits", lambda _text: every)
    monkeypatch.setattr(context, "_may_match", lambda *_: True)
    monkeypatch.setattr(names, "_may_start", lambda *_: True)
    monkeypatch.setattr(names, "_may_be_alone", lambda *_: True)
    monkeypatch.setattr(places, "_may_start", lambda *_: True)
    full = [PiiDetector(memo=0).detect(t) for t in corpus]
    assert sum(map(len, full)) > 500
    assert [(t, g) for t, g, f in zip(corpus, gated, full, strict=True) if g != f] == []


def test_the_memo_returns_the_same_entities_as_a_fresh_detection() -> None:
    memo, fresh = PiiDetector(), PiiDetector(memo=0)
    for text in TRICKY * 2:
        got = memo.detect(text)
        assert got == fresh.detect(text)
        got.clear()  # a caller's list is its own: the memo is not changed
    assert [memo.detect(t) for t in TRICKY] == [fresh.detect(t) for t in TRICKY]


def test_traits_see_digits_capitals_and_cjk() -> None:
    lower = traits("hello there")
    assert (lower.digit, lower.isdigit, lower.capitals) == (False, False, False)
    assert traits("x² only").isdigit and not traits("x² only").digit
    assert traits("room 12").digit
    assert traits("hello 王小明").capitals
    assert traits("ask Jean-Pierre").capital_runs == ("Jean-", "Pierre")


def test_digit_runs_glued_to_letters_are_skipped_without_changing_phones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recognizer = phone.PhoneRecognizer()
    texts = [
        "650448a896a911000744fdcf",  # a request id with a long digit run
        "a4155552671b",
        "call 4155552671 now",
        "ext 0x4155552671x5",  # x is punctuation and an extension mark to phonenumbers
        "+14155552671a",
        "a020 7946 0958b",
        "ref a0171234567 and 0171 2345678",
    ]
    gated = [list(recognizer.find(t)) for t in texts]
    monkeypatch.setattr(phone, "_glued", lambda *_: False)
    assert gated == [list(recognizer.find(t)) for t in texts]
    assert any(gated)
