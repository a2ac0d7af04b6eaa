"""Reference data from seeds/: cue lexicons and the outlet gazetteer, loaded once per process.

Adding a language or an outlet is adding rows to these files, never code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import polars as pl

from flows.config import SEEDS_DIR

ANY_LANGUAGE = "*"


@cache
def cues() -> pl.DataFrame:
    """seeds/lexicons/cues.csv: one row per (language, kind, cue, position)."""
    return pl.read_csv(SEEDS_DIR / "lexicons" / "cues.csv", schema_overrides={"cue": pl.String})


@cache
def lexicon_languages() -> frozenset[str]:
    return frozenset(cues()["language"].unique().to_list()) - {ANY_LANGUAGE}


@dataclass(frozen=True)
class Cue:
    text: str
    kind: str
    position: str  # where the source sits relative to the cue: before | after | either
    language: str


def _boundary_pattern(phrases: list[str]) -> str:
    """Alternation of phrases, longest first, bounded so 'sa' never matches inside 'säger'.

    Word-bounded phrases share one pair of look-arounds (one alternation, not one per phrase: fast).
    """
    words, others = [], []
    for p in sorted(set(phrases), key=len, reverse=True):
        esc = re.escape(p).replace(r"\ ", r"\s+")
        if p[:1].isalnum() and p[-1:].isalnum():
            words.append(esc)
        else:
            left = r"(?<!\w)" if p[:1].isalnum() else ""
            right = r"(?!\w)" if p[-1:].isalnum() else ""
            others.append(left + esc + right)
    parts = others[:]
    if words:
        parts.append(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)")
    return "|".join(parts)


@cache
def cue_matcher(language: str, kind: str) -> tuple[re.Pattern | None, dict[str, Cue]]:
    """A case-insensitive regex for every cue of `kind` in `language` (plus language-independent ones)."""
    df = cues().filter(pl.col("kind") == kind, pl.col("language").is_in([language, ANY_LANGUAGE]))
    table = {
        row["cue"].casefold(): Cue(row["cue"], kind, row["position"], row["language"])
        for row in df.iter_rows(named=True)
    }
    if not table:
        return None, table
    return re.compile(_boundary_pattern(list(df["cue"])), re.IGNORECASE), table


def find_cues(text: str, language: str, kind: str) -> list[tuple[int, int, Cue]]:
    """Every occurrence of a `kind` cue in `text`: (start, end, cue).

    Phrases listed as `not_cue` hide the cues inside them ('theo dõi' is 'to monitor', not 'according to').
    """
    pattern, table = cue_matcher(language, kind)
    if pattern is None:
        return []
    matches = list(pattern.finditer(text))
    if not matches:
        return []  # the common case: no need to look for phrases that hide cues
    masked = []
    not_cues, _ = cue_matcher(language, "not_cue")
    if not_cues is not None:
        masked = [(m.start(), m.end()) for m in not_cues.finditer(text)]
    found = []
    for m in matches:
        if any(a <= m.start() < z for a, z in masked):
            continue
        key = " ".join(m.group(0).split()).casefold()
        found.append((m.start(), m.end(), table.get(key) or Cue(m.group(0), kind, "either", language)))
    return found


@cache
def outlets() -> pl.DataFrame:
    """seeds/aliases/outlets.csv: canonical outlet/agency name per alias."""
    return pl.read_csv(SEEDS_DIR / "aliases" / "outlets.csv")


def _is_case_sensitive(alias: str) -> bool:
    # One-word aliases (FT, PAP, Belga) are often ordinary words in some language ('belga' is Italian
    # for Belgian): match them exactly. Multi-word names tolerate case slips ('Financial times').
    return len(alias.split()) == 1


@cache
def outlet_matchers() -> tuple[re.Pattern, re.Pattern, dict[str, tuple[str, str]]]:
    """(case-sensitive regex, case-insensitive regex, alias -> (name, kind))."""
    df = outlets()
    index = {}
    exact, loose = [], []
    for row in df.iter_rows(named=True):
        alias = row["alias"]
        index[alias.casefold()] = (row["name"], row["kind"])
        (exact if _is_case_sensitive(alias) else loose).append(alias)
    return (
        re.compile(_boundary_pattern(exact)),
        re.compile(_boundary_pattern(loose), re.IGNORECASE),
        index,
    )


@dataclass(frozen=True)
class OutletHit:
    start: int
    end: int
    surface: str
    name: str
    kind: str


def find_outlets(text: str) -> list[OutletHit]:
    """Known outlets and agencies named in `text`, leftmost-longest, without overlaps."""
    exact, loose, index = outlet_matchers()
    hits = []
    for pattern in (loose, exact):
        for m in pattern.finditer(text):
            name, kind = index[re.sub(r"\s+", " ", m.group(0)).casefold()]
            hits.append(OutletHit(m.start(), m.end(), m.group(0), name, kind))
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    kept, last_end = [], -1
    for h in hits:
        if h.start >= last_end:
            kept.append(h)
            last_end = h.end
    return kept


def lookup_outlet(name: str) -> tuple[str, str] | None:
    """(canonical name, kind) for an exact alias, case-insensitively; None when unknown."""
    return outlet_matchers()[2].get(re.sub(r"\s+", " ", name.strip()).casefold())
