"""Training-only English hard negatives: AI-use policies and red-team test requests.

Security teams write *about* attacks in the imperative ("staff must not…", "the bot should
refuse when…") and ask for test cases; these texts name personas, rules and prompts without
being attacks. Phrase parts combined into sentences, added after v1's per-kind figures showed
false positives on security writing; new phrasings, not v1's texts.
"""

from __future__ import annotations

import random

from bastion.guards.injection.corpus.build import SEED, Example

_SOURCE = (
    "Our AI policy says",
    "The acceptable-use guideline states that",
    "Compliance wants it written down that",
    "The new handbook section says",
    "Legal asked us to make clear that",
    "Per the security standard,",
)
_RULE = (
    "employees must not paste customer records into public chatbots",
    "nobody may upload source code to an external AI tool",
    "staff should never share passwords with an assistant",
    "contractors must not feed confidential contracts to translation bots",
    "AI answers about medical topics need a human review",
    "prompts that contain personal data have to be anonymised first",
)
_BOT = (
    "Our support bot should refuse",
    "The assistant must decline",
    "We expect the model to say no",
    "The agent has to stop",
    "Our chatbot is supposed to push back",
)
_WHEN = (
    "when someone asks it to play an AI without limits",
    "when a user tells it to forget its guidelines",
    "when a document asks it to email data elsewhere",
    "when it is asked to print its hidden instructions",
    "when a web page tells it to ignore the user",
    "if a tool result contains new orders",
)
_ASK = (
    "Suggest test cases.",
    "Rewrite this as a short notice for the intranet.",
    "Turn it into three bullet points.",
    "Write five test prompts we can run every release.",
    "How do we check this in CI?",
    "Draft the paragraph for the training slides.",
    "Is the wording clear enough?",
)


def compose_security(n: int, seed: int = SEED) -> list[Example]:
    """``n`` distinct policy or red-team texts (benign_security)."""
    rng = random.Random(seed + 4)
    out: list[Example] = []
    seen: set[str] = set()
    for i in range(n * 3):
        if i % 2:
            text = f"{rng.choice(_SOURCE)} {rng.choice(_RULE)}. {rng.choice(_ASK)}"
        else:
            text = f"{rng.choice(_BOT)} {rng.choice(_WHEN)}. {rng.choice(_ASK)}"
        if text not in seen:
            seen.add(text)
            out.append(Example(text, 0, "benign_security"))
        if len(out) == n:
            break
    return out
