"""Phone numbers: a cheap digit-run pre-check, then ``phonenumbers``' matcher (leniency VALID)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from bastion.guards.pii.entity import PHONE, Entity

#: Regions tried in order for numbers written without a ``+country`` prefix.
DEFAULT_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU", "JP", "CN"
)  # fmt: skip
# Chinese mobiles are written without the trunk prefix: 138 1234 5678.
_NO_TRUNK_MOBILES = ("CN",)

# At least 8 digits (national formats in the default regions have 8 or more), possibly
# separated by spaces, dots, dashes, slashes or parentheses.
_CANDIDATE = re.compile(r"(?:\+|\b00)?\(?\d(?:[ ().\-/]{0,3}\d){7,}")
# Dates, SSN-shaped runs, ZIP+4 codes and year-prefixed references ("2023-000451") are not
# phone numbers, whichever region would accept their digits.
_NOT_PHONE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}|\d{3}-\d{2}-\d{4}"
    r"|\d{5}-\d{4}|(?:19|20)\d\d[-/]\d{4,}"
)


class PhoneRecognizer:
    """Finds valid phone numbers, trying ``regions`` in order for national-format numbers.

    The matcher runs on a small window around each digit run, not the whole text: the
    pre-check keeps a 200-character message without phone-like runs at regex cost.
    """

    def __init__(self, regions: Sequence[str] = DEFAULT_REGIONS) -> None:
        unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if unknown or not regions:
            raise ValueError(f"unknown phone regions: {unknown or 'none given'}")
        self._regions = tuple(regions)
        # Outside the first ("home") region, a national-format number must start with that
        # region's trunk prefix (0 in GB, DE, FR, IN, …): "1234567890" is not an Indian number.
        self._prefixes = tuple(
            ("",)
            if i == 0
            else (_metadata_prefix(r) or "", *(("1",) if r in _NO_TRUNK_MOBILES else ()))
            for i, r in enumerate(self._regions)
        )

    def find(self, text: str, taken: Sequence[Entity] = ()) -> Iterator[Entity]:
        """Phone numbers in ``text``, skipping digit runs inside ``taken`` (e.g. card) spans."""
        for m in _CANDIDATE.finditer(text):
            if _NOT_PHONE.fullmatch(m.group()) or any(
                t.start <= m.start() and m.end() <= t.end for t in taken
            ):
                continue
            if _glued(text, m):
                continue
            lo, hi = max(0, m.start() - 2), min(len(text), m.end() + 2)
            window = text[lo:hi]
            international = m.group().startswith("+")
            digits = "".join(c for c in m.group() if c.isdigit())
            for region, prefix in zip(self._regions, self._prefixes, strict=True):
                if not international and not digits.startswith(prefix):
                    continue
                hits = list(PhoneNumberMatcher(window, region, leniency=Leniency.VALID))
                for hit in hits:
                    if _NOT_PHONE.fullmatch(hit.raw_string):
                        continue
                    yield Entity(PHONE, lo + hit.start, lo + hit.end, hit.raw_string, 0.85)
                if hits or international:
                    break


# Latin letters but x/X, which phonenumbers reads as punctuation and as an extension mark.
_GLUE = frozenset("abcdefghijklmnopqrstuvwyzABCDEFGHIJKLMNOPQRSTUVWYZ")


def _glued(text: str, m: re.Match[str]) -> bool:
    """A bare digit run with a Latin letter on each side ("…a911000744f…" in a hex id): the
    matcher at leniency VALID rejects a number touching Latin letters, and a run without
    separators holds no inner number, so it would find nothing (and costs ~0.1 ms a region).
    """
    start, end = m.start(), m.end()
    return (
        start > 0
        and end < len(text)
        and text[start - 1] in _GLUE
        and text[end] in _GLUE
        and m.group().isdigit()
    )


def _metadata_prefix(region: str) -> str | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata.national_prefix if metadata is not None else None
