"""Ids Bastion mints itself: typed, so a PII scrubber can tell them from client-supplied text."""

from __future__ import annotations

import random


class MintedId(str):
    """A value Bastion generated (a random request id): it carries no user data.

    The audit scrubber stores such a value verbatim instead of running the PII detector on
    it (a fresh id defeats every memo). The type is the proof, so only this module makes one:
    an id a client supplies (``x-request-id``) stays a plain ``str`` and is scrubbed. Anything
    derived from a minted id (slices, f-strings, concatenation) is a plain ``str`` again.
    """

    __slots__ = ()


def mint_request_id() -> MintedId:
    """24 hex digits, unique, not secret: no syscall per request (random reseeds after fork)."""
    return MintedId(f"{random.getrandbits(96):024x}")
