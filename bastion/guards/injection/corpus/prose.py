"""Benign prose for the carriers: generated business sentences and the Python standard
library's docstring sentences (``data/injection_benign_prose.txt``, 1,765 sentences taken
once from CPython 3.11's docstrings: technical English that says "ignore", "instruction",
"system", "override" in their ordinary senses)."""

from __future__ import annotations

import random
from importlib.resources import files

_WHO = (
    "The finance team",
    "Our landlord",
    "The project lead",
    "My colleague Priya",
    "The supplier",
    "Customer support",
    "The school",
    "The design agency",
    "Our auditor",
    "The dentist's office",
    "The insurance company",
    "Facilities",
    "The new intern",
    "The board",
    "Marketing",
    "The city library",
    "Legal",
    "The travel agency",
)
_DID = (
    "confirmed the new delivery date for",
    "asked for an update on",
    "sent the draft of",
    "postponed the review of",
    "approved the budget for",
    "raised a question about",
    "shared the final numbers for",
    "needs a signature on",
    "wants feedback on",
    "cancelled the meeting about",
    "reported a delay with",
    "booked a room for",
    "forgot to attach",
    "updated the checklist for",
    "will present",
)
_WHAT = (
    "the office move",
    "the spring catalogue",
    "invoice 4471",
    "the Q3 roadmap",
    "the onboarding guide",
    "the kitchen renovation",
    "the parents' evening",
    "the API migration",
    "the warehouse inventory",
    "the annual report",
    "the client workshop",
    "the safety training",
    "the website redesign",
    "the lease renewal",
    "the conference trip",
    "the data retention policy",
)
_WHEN = (
    "by Friday",
    "next Tuesday",
    "before the end of the month",
    "this afternoon",
    "in two weeks",
    "after the holidays",
    "on the 14th",
    "tomorrow morning",
    "as soon as possible",
    "by noon",
)
_TAIL = (
    "Please let me know if that works for you.",
    "Thanks in advance for your help.",
    "Nothing else is needed from our side.",
    "The details are in the shared folder.",
    "Call me if anything is unclear.",
    "We can discuss it at the next stand-up.",
    "I have added it to the calendar.",
    "Feel free to ignore this if you already replied.",
    "The previous version is attached for reference.",
    "Reply to all so everyone stays informed.",
)


def business_paragraph(rng: random.Random) -> str:
    sentences = [
        f"{rng.choice(_WHO)} {rng.choice(_DID)} {rng.choice(_WHAT)} {rng.choice(_WHEN)}."
        for _ in range(rng.randint(1, 3))
    ]
    return " ".join(sentences) + " " + rng.choice(_TAIL)


def docstring_sentences() -> list[str]:
    path = files("bastion.guards") / "data" / "injection_benign_prose.txt"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def docstring_paragraph(rng: random.Random, sentences: list[str]) -> str:
    return " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 3)))
