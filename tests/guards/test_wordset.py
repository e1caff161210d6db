"""WordSet answers membership exactly as a frozenset of the same words does."""

from __future__ import annotations

import json
import random
from importlib import resources

import pytest

from bastion.guards.pii.gazetteer import Gazetteer, gazetteer
from bastion.guards.pii.wordset import WordSet


def _raw_words() -> list[str]:
    raw = json.loads(
        resources.files("bastion.guards").joinpath("data/pii_gazetteer.json").read_text("utf-8")
    )
    return sorted({w for key, v in raw.items() if isinstance(v, list) for w in v})


def test_every_gazetteer_list_answers_as_its_frozenset() -> None:
    g = gazetteer()
    everything = _raw_words()
    rng = random.Random(5)
    probes = [
        *everything,
        *(w.lower() for w in everything[::7]),
        *(w[:-1] for w in everything[::5]),
        *(w + "a" for w in everything[::5]),
        *(a + "\n" + b for a, b in zip(everything[::97], everything[1::97], strict=False)),
        *(a + b for a, b in zip(everything[::89], everything[1::89], strict=False)),
        "",
        "\n",
        *(
            "".join(rng.choice("aeiouKMNSTrl ") for _ in range(rng.randint(1, 9)))
            for _ in range(5000)
        ),
    ]
    for field in Gazetteer.__slots__:
        words: WordSet = getattr(g, field)
        plain = frozenset(words)
        assert len(words) == len(plain) > 0
        assert [p in words for p in probes] == [p in plain for p in probes], field


@pytest.mark.parametrize("words", [[], ["a"], ["Anna", "Bob", "Łukasz", "北京", "x" * 300]])
def test_small_sets(words: list[str]) -> None:
    s = WordSet.of(words)
    assert sorted(s) == sorted(words) and len(s) == len(words)
    for probe in [*words, "", "A", "Ann", "Annab", "Anna\nBob", "Bob\n", "北"]:
        assert (probe in s) == (probe in words)


def test_a_word_with_a_newline_is_refused() -> None:
    with pytest.raises(ValueError, match="newline"):
        WordSet.of(["a\nb"])
