"""Training-only multilingual examples composed from the phrase parts of ``intl_templates``."""

from __future__ import annotations

import random

from bastion.guards.injection.corpus import attacks_en, carriers
from bastion.guards.injection.corpus.build import SEED, Example
from bastion.guards.injection.corpus.intl_templates import PARTS


def _attack(rng: random.Random, parts: dict[str, tuple[str, ...]]) -> str:
    r = rng.random()
    if r < 0.45:
        text = f"{rng.choice(parts['head'])}, {rng.choice(parts['demand'])}."
    elif r < 0.65:
        text = rng.choice(parts["extract"])
    elif r < 0.8:
        text = rng.choice(parts["role"])
    else:
        text = f"{rng.choice(parts['note'])} {rng.choice(parts['demand'])}."
    return text.format(
        url=rng.choice(carriers.URLS),
        product=rng.choice(carriers.PRODUCTS),
        topic=rng.choice(attacks_en.HARMFUL_TOPICS),
    )


def _benign(rng: random.Random, parts: dict[str, tuple[str, ...]]) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(parts['benign_head'])}. {rng.choice(parts['benign'])}"
    return rng.choice(parts["benign"])


def compose_intl(
    attacks: int,
    benign: int,
    seed: int = SEED,
    parts: dict[str, dict[str, tuple[str, ...]]] = PARTS,
) -> list[Example]:
    """Distinct attack and benign sentences, some embedded in a document paragraph."""
    rng = random.Random(seed + 2)
    languages = sorted(parts)
    out: list[Example] = []
    seen: set[str] = set()
    for i in range(attacks + benign):
        lang = languages[i % len(languages)]
        label = 1 if i < attacks else 0
        text = _attack(rng, parts[lang]) if label else _benign(rng, parts[lang])
        payload = text if label else None
        if rng.random() < 0.3:
            around = rng.choice(carriers.PARAGRAPHS)
            text = f"{around}\n\n{text}" if rng.random() < 0.5 else f"{text}\n\n{around}"
        if text not in seen:
            seen.add(text)
            out.append(
                Example(
                    text,
                    label,
                    "multilingual" if label else "benign_multilingual",
                    lang,
                    "user",
                    payload if payload != text else None,
                )
            )
    return out
