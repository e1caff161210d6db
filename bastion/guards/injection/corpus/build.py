"""Compose the corpus: payloads × carriers × languages, split by seed position.

Every seed list is split by position (``part``): items at positions ``3, 7, 11, …`` belong to
the test side, the rest to training. A test example is built only from test-side seeds
(payload, goal, carrier paragraph, e-mail subject, tool, wrapper), so the frozen test split
measures phrasings and contexts that training never saw.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bastion.guards.injection.corpus import attacks_en, benign_en, carriers
from bastion.guards.injection.corpus.attacks_intl import ATTACKS
from bastion.guards.injection.corpus.benign_intl import BENIGN
from bastion.guards.injection.corpus.prose import (
    business_paragraph,
    docstring_paragraph,
    docstring_sentences,
)

T = TypeVar("T")
Attack = tuple[str, str, str, str | None]  # text, language, source, planted payload
SEED = 20261207


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: int
    kind: str
    lang: str = "en"
    source: str = "user"  # "tool" for a tool / function result
    payload: str | None = None  # the planted attack inside a carrier (training only)

    def as_dict(self) -> dict[str, object]:
        record: dict[str, object] = {
            "text": self.text,
            "label": self.label,
            "kind": self.kind,
            "lang": self.lang,
            "source": self.source,
        }
        if self.payload is not None:
            record["payload"] = self.payload
        return record


def part(items: Sequence[T], test: bool) -> list[T]:
    """The test side (every fourth item) or the training side of ``items``."""
    return [x for i, x in enumerate(items) if (i % 4 == 3) == test]


class Composer:
    """Draws from one side's seeds with a seeded RNG."""

    def __init__(self, test: bool, seed: int = SEED) -> None:
        self.test = test
        self.rng = random.Random(seed + (1 if test else 0))
        self.prose = part(docstring_sentences(), test)

    def pick(self, items: Sequence[T]) -> T:
        side = part(items, self.test) or list(items)
        return self.rng.choice(side)

    def fill(self, template: str) -> str:
        goal = self.pick(attacks_en.GOALS)
        values = {
            "url": self.pick(carriers.URLS),
            "mail": self.pick(carriers.MAILS),
            "product": self.pick(carriers.PRODUCTS),
            "persona": self.pick(attacks_en.PERSONAS),
            "topic": self.pick(attacks_en.HARMFUL_TOPICS),
        }
        goal = goal.format(**values)
        values["goal"] = goal
        values["goal_cap"] = goal[:1].upper() + goal[1:]
        return template.format(**values)

    def vary(self, text: str) -> str:
        """Surface variation of a direct message: a greeting, a tail, case, punctuation."""
        r = self.rng.random()
        if r < 0.15:
            text = self.pick(("Hi! ", "Quick one: ", "Ok so ", "Hello there. ", "btw ")) + text
        elif r < 0.25:
            text = text + self.pick((" Thanks!", " Thx.", " Please hurry.", " :)", " ASAP"))
        r = self.rng.random()
        if r < 0.1:
            text = text.lower()
        elif r < 0.15:
            text = text.rstrip(".!?")
        return text

    def paragraph(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return self.pick(carriers.PARAGRAPHS)
        if r < 0.7:
            return business_paragraph(self.rng)
        return docstring_paragraph(self.rng, self.prose)

    def paragraphs(self, n: int) -> list[str]:
        return [self.paragraph() for _ in range(n)]

    def document(self, payload: str | None) -> str:
        body = self.paragraphs(self.rng.randint(1, 3))
        if payload is not None:
            body.insert(self.rng.randint(0, len(body)), payload)
        joined = "\n\n".join(body)
        return self.pick(carriers.ASKS).format(body=joined) if self.rng.random() < 0.75 else joined

    def email(self, payload: str | None) -> str:
        name, mail = self.pick(carriers.SENDERS)
        body = self.paragraphs(self.rng.randint(1, 2))
        if payload is not None:
            body.insert(self.rng.randint(0, len(body)), payload)
        text = (
            f"From: {name} <{mail}>\nTo: me\nSubject: {self.pick(carriers.SUBJECTS)}\n\n"
            f"Hi,\n\n" + "\n\n".join(body) + f"\n\nBest regards,\n{name}"
        )
        if self.rng.random() < 0.6:
            text = self.pick(carriers.ASKS).format(body=text)
        return text

    def tool(self, payload: str | None, breakout: bool) -> tuple[str, str]:
        """A tool result (source "tool"), or one pasted into a user message (source "user")."""
        name, template = self.pick(carriers.TOOLS)
        snippet = self.paragraph().replace('"', "'")
        if payload is not None and not breakout:
            snippet = f"{snippet} {payload}".replace('"', "'")
        result = template.format(url=self.pick(carriers.URLS), text=snippet)
        if payload is not None and breakout:
            cut = result.index(snippet) + len(snippet)
            result = result[:cut] + payload
        if self.rng.random() < 0.7:
            return result, "tool"
        lead = self.pick((f"Function {name} returned:\n", "Tool output:\n", f"[{name}] ", ""))
        return lead + result, "user"


def _attacks(c: Composer, n: int) -> list[Example]:
    out: list[Example] = []

    def direct(seeds: Sequence[str]) -> Attack:
        return c.vary(c.fill(c.pick(seeds))), "en", "user", None

    def carried(wrap: Callable[[str | None], str]) -> Attack:
        payload = _planted(c)
        return wrap(payload), "en", "user", payload

    gens: list[tuple[str, Callable[[], Attack]]] = [
        ("override", lambda: direct(attacks_en.OVERRIDE)),
        ("override_soft", lambda: direct(attacks_en.OVERRIDE_SOFT)),
        ("extraction", lambda: direct(attacks_en.EXTRACTION)),
        ("roleplay", lambda: direct(attacks_en.ROLEPLAY)),
        ("exfiltration", lambda: direct(attacks_en.EXFILTRATION)),
        ("indirect_document", lambda: carried(c.document)),
        ("indirect_email", lambda: carried(c.email)),
        ("tool_result", lambda: _tool_attack(c)),
        ("multilingual", lambda: _intl_attack(c)),
    ]
    for i in range(n):
        kind, gen = gens[i % len(gens)]
        text, lang, source, payload = gen()
        out.append(Example(text, 1, kind, lang, source, payload))
    return out


def _planted(c: Composer) -> str:
    r = c.rng.random()
    if r < 0.55:
        return c.fill(c.pick(attacks_en.PLANTED))
    if r < 0.8:
        return c.fill(c.pick(attacks_en.OVERRIDE_SOFT))
    if r < 0.9:
        return c.pick(attacks_en.EXTRACTION)
    return c.fill(c.pick(attacks_en.EXFILTRATION))


def _tool_attack(c: Composer) -> Attack:
    breakout = c.rng.random() < 0.45
    payload = c.fill(c.pick(attacks_en.TOOL_BREAKOUT)) if breakout else _planted(c)
    text, source = c.tool(payload, breakout)
    return text, "en", source, payload


def _intl_attack(c: Composer) -> Attack:
    lang = c.rng.choice(sorted(ATTACKS))  # every language; its seeds are split
    payload = c.fill(c.pick(ATTACKS[lang]))
    r = c.rng.random()
    if r < 0.6:
        return payload, lang, "user", None
    if r < 0.8:
        return c.document(payload), lang, "user", payload
    return c.email(payload), lang, "user", payload


def _benign(c: Composer, n: int) -> list[Example]:
    def tool() -> tuple[str, str, str]:
        text, source = c.tool(None, False)
        return text, "en", source

    def intl() -> tuple[str, str, str]:
        lang = c.rng.choice(sorted(BENIGN))
        return c.pick(BENIGN[lang]), lang, "user"

    gens: list[tuple[str, Callable[[], tuple[str, str, str]]]] = [
        ("benign_security", lambda: (c.vary(c.pick(benign_en.SECURITY)), "en", "user")),
        ("benign_trigger_words", lambda: (c.vary(c.pick(benign_en.TRIGGER_WORDS)), "en", "user")),
        ("benign_assistant", lambda: (c.vary(c.pick(benign_en.ASSISTANT)), "en", "user")),
        ("benign_code", lambda: (c.pick(benign_en.CODE), "en", "user")),
        ("benign_document", lambda: (c.document(None), "en", "user")),
        ("benign_email", lambda: (c.email(None), "en", "user")),
        ("benign_tool_result", tool),
        ("benign_multilingual", intl),
        ("benign_short", lambda: (c.vary(c.pick(benign_en.SHORT)), "en", "user")),
    ]
    out: list[Example] = []
    for i in range(n):
        kind, gen = gens[i % len(gens)]
        text, lang, source = gen()
        out.append(Example(text, 0, kind, lang, source))
    return out


def compose(test: bool, attacks: int, benign: int, seed: int = SEED) -> list[Example]:
    """Distinct examples of one side, attacks and benign interleaved in a seeded order."""
    c = Composer(test, seed)
    seen: set[str] = set()
    out: list[Example] = []
    for example in _attacks(c, attacks) + _benign(c, benign):
        if example.text not in seen:
            seen.add(example.text)
            out.append(example)
    c.rng.shuffle(out)
    return out
