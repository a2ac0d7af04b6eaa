"""Script-level name spans and outlet resolution: what works in any language that writes names capitalised.

A name span is a run of capitalised tokens (Liège, Financial Times, VSSE, TVN24), optionally joined by
connectors from the lexicon (of, de, della, van, von...). It needs no model and no language resources,
so a sentence in a language with no lexicon still yields names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl
import regex
import stopwordsiso

from flows.config import setting
from flows.lexicon.reference import ANY_LANGUAGE, cues, find_cues, lookup_outlet, outlets

# Apostrophes end a token: "l’Università" -> "l", "Università"; "Alibaba’s" -> "Alibaba", "s".
# letters with their vowel signs and other combining marks (Devanagari, Bengali, Thai): one token
TOKEN = regex.compile(r"[@#]?[\p{L}\p{M}\p{N}_]+(?:[-.&][\p{L}\p{M}\p{N}_]+)*")
FUZZY_OUTLET_RATIO = 0.85


@dataclass(frozen=True)
class Name:
    start: int
    end: int
    text: str


@cache
def connectors() -> frozenset[str]:
    df = cues().filter(pl.col("kind") == "name_connector", pl.col("language") == ANY_LANGUAGE)
    return frozenset(df["cue"].str.to_lowercase().to_list())


@cache
def function_words(language: str) -> frozenset[str]:
    return frozenset(stopwordsiso.stopwords(language)) if stopwordsiso.has_lang(language) else frozenset()


def _capitalised(tok: str) -> bool:
    if tok[0].isupper():
        return True
    if tok[0].islower():
        return False
    core = tok.lstrip("@#")
    return bool(core) and (core[0].isupper() or (core[0].isdigit() and any(c.isupper() for c in core)))


def tokens(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in TOKEN.finditer(text, start, len(text) if end is None else end)]


def name_spans(text: str, language: str, start: int = 0, end: int | None = None, toks=None) -> list[Name]:
    """Capitalised token runs in text[start:end]; a lone capitalised function word ('The', 'Il') is not a name."""
    toks = tokens(text, start, end) if toks is None else toks
    fw = function_words(language)
    joiners = connectors()
    syllabic = language in setting("names", "syllabic_languages")
    spans, run = [], []

    def close():
        while run and not _capitalised(run[-1][2]):
            run.pop()
        # drop leading function words: 'The Guardian' keeps 'The' only when followed by a name
        if run and all(t[2].casefold() in fw for t in run):
            run.clear()
        if run:
            a, z = run[0][0], run[-1][1]
            spans.append(Name(a, z, text[a:z]))
        run.clear()

    for i, tok in enumerate(toks):
        a, z, t = tok
        if run and text[run[-1][1] : a].strip(" \t"):
            close()  # punctuation between the words: the name ended
        if _capitalised(t):
            run.append(tok)
        elif not run:
            continue
        elif t.casefold() in joiners or t.isdigit():
            run.append(tok)
        elif syllabic and t.casefold() not in fw and i + 1 < len(toks) and _capitalised(toks[i + 1][2]):
            run.append(tok)  # "Ngân hàng Quốc gia Bỉ": a lower-case syllable inside the name
        else:
            close()
    if run:
        close()
    return spans


@lru_cache(maxsize=100_000)
def resolve_outlet(surface: str) -> tuple[str, str] | None:
    """(canonical name, kind) for a known outlet: exact alias first, then a close spelling ('Finance Times')."""
    surface = " ".join(surface.split()).strip(" .,;:()[]\"'“”«»")
    if not surface:
        return None
    hit = lookup_outlet(surface)
    if hit or len(surface) < 6:
        return hit
    from rapidfuzz import fuzz, process

    folded = surface.casefold()
    # only aliases of about its length that start with its letter: a typo, not another name
    candidates = [a for a in _fuzzy_aliases().get(folded[0], ()) if abs(len(a[0]) - len(folded)) <= 4]
    best = process.extractOne(
        folded, [alias for alias, _, _ in candidates], scorer=fuzz.ratio, score_cutoff=100 * FUZZY_OUTLET_RATIO
    )
    if best is None:
        return None
    _, name, kind = candidates[best[2]]
    return name, kind


@cache
def _fuzzy_aliases() -> dict[str, list[tuple[str, str, str]]]:
    """First letter -> (alias, name, kind); only long aliases: short acronyms must match exactly."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for row in outlets().iter_rows(named=True):
        if len(row["alias"]) >= 6:
            alias = row["alias"].casefold()
            out.setdefault(alias[0], []).append((alias, row["name"], row["kind"]))
    return out


DESCRIPTOR_TYPES = {"descriptor_per": "PER", "descriptor_org": "ORG", "descriptor_loc": "LOC"}


def descriptor_type(phrase: str, language: str) -> str | None:
    """PER / ORG / LOC when the phrase describes instead of naming; 'PRON' for a bare pronoun."""
    if not phrase:
        return None
    words = [w.strip(".,;:’'") for w in phrase.casefold().split() if w.strip(".,;:’'")]
    fw = function_words(language)
    if words and all(w in fw for w in words):
        return "PRON"
    if any(ch.isupper() for w in phrase.split() for ch in w[:1]) and not phrase[:1].isupper():
        return None  # a name inside the phrase ("the spokesman of Cainiao"): the phrase names someone
    hits = [(z, kind) for kind in DESCRIPTOR_TYPES for _, z, _ in find_cues(phrase, language, kind)]
    if not hits:
        return None
    end, kind = max(hits)
    rest = [w for w in phrase[end:].casefold().split() if w.strip(".,;:’'") not in fw]
    if rest:
        return None  # a title before a name ("Bakan Mehmet Şimşek", "الوزير أحمد"): the phrase names someone
    return DESCRIPTOR_TYPES[kind]


_DIGRAPHS = (
    ("ph", "f"),
    ("th", "t"),
    ("kh", "k"),
    ("sh", "s"),
    ("ch", "s"),
    ("zh", "s"),
    ("ts", "s"),
    ("dh", "d"),
    ("gh", "g"),
    ("ck", "k"),
    ("dj", "g"),
    ("dzh", "g"),
)
_CONSONANT_CLASS = str.maketrans({"c": "k", "q": "k", "j": "g", "z": "s", "x": "s", "w": "v", "l": "r", "p": "b"})


@lru_cache(maxsize=100_000)
def skeleton(name: str) -> str:
    """How a name sounds, in consonants, whatever its script: 'Илон Маск', 'Elon Musk' -> 'rn msk'.

    Transliterated to Latin (anyascii), digraphs folded, vowels and h dropped, consonants that scripts
    and transcriptions confuse merged (c/k/q, j/g, z/s, w/v, l/r, p/b), repeats collapsed. Used to find
    one person written in several scripts; two different names rarely share a long skeleton."""
    from anyascii import anyascii

    words = []
    for word in re.sub(r"[^a-z ]", "", anyascii(name).lower().replace("-", " ")).split():
        for a, b in _DIGRAPHS:
            word = word.replace(a, b)
        word = re.sub(r"[aeiouyh]", "", word).translate(_CONSONANT_CLASS)
        word = re.sub(r"(.)\1+", r"\1", word)
        if word:
            words.append(word)
    return " ".join(words)
