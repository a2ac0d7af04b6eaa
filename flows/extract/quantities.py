"""Quantities: locale-aware numbers with scale words, units, currencies, percentages, ordinals, fractions.

"100milioni di euro" -> 100000000 EUR; "3,7 tỷ euro" -> 3700000000 EUR; "30,000 square meter" -> 30000 m2;
"326 triệu gói hàng" -> 326000000 count (of "gói hàng"); "quinto" -> 5 ordinal; "1/5" -> 0.2 fraction.
Decimal and group symbols come from CLDR (Babel) for the article's language; words come from
seeds/languages/<code>/units.csv. Years and date parts are left to flows/dates.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import polars as pl

from flows.config import setting
from flows.lexicon.names import function_words
from flows.lexicon.reference import ANY_LANGUAGE, unit_rows

QUANTITY_SCHEMA = {
    "quantity_id": pl.String,
    "article_id": pl.String,
    "sentence_id": pl.String,
    "surface": pl.String,
    "value": pl.Float64,
    "unit": pl.String,        # ISO 4217 code, %, m2, km2, t, kg, km, count, ordinal, fraction
    "dimension": pl.String,   # currency | percent | area | mass | length | count | ordinal | fraction
    "counted": pl.String,     # for counts: the thing counted ("gói hàng", "Container")
    "start_char": pl.Int32,
    "end_char": pl.Int32,
}
# a number: digits with group separators (. , space, no-break spaces, apostrophe) and a decimal part
_NUMBER = re.compile(r"(?<![\w.,/])(\d{1,3}(?:[.,\u00a0\u202f' ]\d{3})+|\d+)(?:([.,])(\d+))?(?![\d/])")
_FRACTION = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/])")
_SPACE = re.compile(r"[ \u00a0\u202f]?")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class Word:
    surface: str
    kind: str
    unit: str
    value: float


@cache
def unit_words(language: str) -> dict[str, list[Word]]:
    """kind -> words for `language` and every language, longest first."""
    df = unit_rows().filter(pl.col("language").is_in([language, ANY_LANGUAGE]))
    out: dict[str, list[Word]] = {}
    for row in df.iter_rows(named=True):
        value = 0.0 if row["value"] is None else float(row["value"])
        out.setdefault(row["kind"], []).append(Word(row["surface"], row["kind"], row["unit"] or "", value))
    for kind in out:
        out[kind].sort(key=lambda w: -len(w.surface))
    return out


@cache
def _word_pattern(language: str, kind: str) -> re.Pattern | None:
    words = unit_words(language).get(kind, [])
    if not words:
        return None
    alts = []
    for w in words:
        esc = re.escape(w.surface).replace(r"\ ", r"\s+")
        alts.append(esc + (r"(?!\w)" if w.surface[-1].isalnum() else ""))
    return re.compile("(?:" + "|".join(alts) + ")", re.IGNORECASE)


def _match_word(text: str, pos: int, language: str, kind: str) -> tuple[Word, int] | None:
    """A `kind` word starting at `pos` (after optional space): (word, end)."""
    pattern = _word_pattern(language, kind)
    if pattern is None:
        return None
    m = pattern.match(text, pos)
    if not m:
        return None
    folded = " ".join(m.group(0).split()).casefold()
    for w in unit_words(language)[kind]:
        if w.surface.casefold() == folded:
            return w, m.end()
    return None


@cache
def _symbols(language: str) -> tuple[str, str]:
    from babel.numbers import get_decimal_symbol, get_group_symbol

    try:
        return get_decimal_symbol(language), get_group_symbol(language)
    except Exception:  # a language CLDR does not know: English conventions
        return ".", ","


def parse_number(integer: str, sep: str | None, fraction: str | None, language: str) -> float:
    """'30.000' (it) -> 30000; '30,000' (en) -> 30000; '3,7' (vi) -> 3.7; '30 000' (sv) -> 30000."""
    decimal, _ = _symbols(language)
    groups = re.split(r"[.,\u00a0\u202f' ]", integer)
    digits = "".join(groups)
    if sep and fraction is not None:
        if sep == decimal or len(fraction) != 3:
            return float(f"{digits}.{fraction}")
        return float(digits + fraction)  # '1,500' in a comma-decimal locale written the English way
    if len(groups) > 1:
        seps = set(re.findall(r"[.,]", integer))
        if seps == {decimal} and len(groups) == 2 and decimal != ",":
            return float(f"{groups[0]}.{groups[1]}")
    return float(digits)


def _after(text: str, pos: int) -> int:
    m = _SPACE.match(text, pos)
    return m.end()


def _counted(text: str, pos: int, language: str) -> str | None:
    """The noun a bare number counts: one word (two syllables where a syllable is a word: 'gói hàng')."""
    fw = function_words(language)
    limit = 2 if language in setting("names", "syllabic_languages") else 1
    words = []
    for m in re.finditer(r"\s*([^\W\d_][\w-]*)", text[pos:pos + 60]):
        if m.start() != (0 if not words else words[-1][1]) and not words:
            break
        w = m.group(1)
        if w.casefold() in fw:
            break
        words.append((w, m.end()))
        if len(words) == limit:
            break
    return " ".join(w for w, _ in words) or None


def extract_sentence(text: str, language: str, masked: list[tuple[int, int]]) -> list[dict]:
    """Quantities in one sentence (offsets relative to it); `masked` spans are dates."""
    found: list[dict] = []

    def free(a, z):
        return not any(a < mz and ma < z for ma, mz in masked + [(q["start"], q["end"]) for q in found])

    for m in _FRACTION.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if 0 < a < b <= 10 and free(m.start(), m.end()):
            found.append(dict(start=m.start(), end=m.end(), value=a / b, unit="fraction", dimension="fraction", counted=None))
    for m in _NUMBER.finditer(text):
        if not free(m.start(), m.end()):
            continue
        start, end = m.start(), m.end()
        if start > 0 and text[start - 1].isalpha() and not text[start - 1] in "€$£¥":
            continue  # a digit inside a word: TVN24, m2
        value = parse_number(m.group(1), m.group(2), m.group(3), language)
        is_plain_year = re.fullmatch(r"(1[89]|20)\d\d", m.group(0)) is not None
        unit, dimension, counted = "count", "count", None
        # currency before: €100, $5, USD 100
        pre = text[max(0, start - 4):start].rstrip()
        for w in unit_words(language).get("currency", []):
            if pre.endswith(w.surface) and (not w.surface[0].isalpha() or pre[-len(w.surface) - 1:-len(w.surface)] in ("", " ")):
                unit, dimension = w.unit, "currency"
                start = start - (len(text[max(0, start - 4):start]) - len(pre)) - len(w.surface)
                break
        pos = _after(text, end)
        scale = _match_word(text, end, language, "scale") or _match_word(text, pos, language, "scale")
        if scale:
            value = round(value * scale[0].value, 6)  # 8,2 Millionen is 8200000, not 8199999.999999999
            end = scale[1]
            pos = _after(text, end)
        if dimension == "count":
            for kind in ("percent", "currency", "area", "mass", "length"):
                hit = _match_word(text, end, language, kind) or _match_word(text, pos, language, kind)
                if hit is None:
                    # 'di euro', 'de dólares': one function word between the number and its unit
                    fw = re.match(r"(\w+)(?:\s+|['’])", text[pos:])
                    if fw and fw.group(1).casefold() in function_words(language):
                        hit = _match_word(text, pos + fw.end(), language, kind)
                if hit:
                    unit, dimension = hit[0].unit, hit[0].kind
                    end = hit[1]
                    break
        if dimension == "count":
            if is_plain_year and not scale:
                continue  # a year: flows/dates.py
            counted = _counted(text, end, language)
            if counted is None:
                continue  # a bare number with nothing counted ('Il Sole 24 Ore'): not a quantity
        found.append(dict(start=start, end=end, value=value, unit=unit, dimension=dimension, counted=counted))
    # ordinals: '5th', 'quinto', 'thứ năm'
    fw = function_words(language)
    pattern = _word_pattern(language, "ordinal")
    if pattern is not None:
        for m in re.finditer(r"(?<!\w)(?:" + pattern.pattern[3:-1] + r")", text, re.IGNORECASE):
            word = _match_word(text, m.start(), language, "ordinal")
            if word is None or not free(m.start(), m.end()):
                continue
            nxt = re.match(r"\s+(\w+)", text[m.end():])
            single = " " not in word[0].surface
            if single and (nxt is None or nxt.group(1).casefold() in fw):
                continue  # 'secondo il ...' is 'according to', not 'second'
            found.append(dict(start=m.start(), end=m.end(), value=word[0].value, unit="ordinal", dimension="ordinal", counted=None))
    suffixes = unit_words(language).get("ordinal_suffix", [])
    pattern = _ordinal_suffix_pattern(language) if suffixes else None
    for m in pattern.finditer(text) if pattern else ():
        if free(m.start(), m.end()):
            found.append(dict(start=m.start(), end=m.end(), value=float(m.group(1)), unit="ordinal", dimension="ordinal", counted=None))
    return sorted(found, key=lambda q: q["start"])


@cache
def _ordinal_suffix_pattern(language: str) -> re.Pattern:
    """Digits followed by an ordinal ending of the language: en 21st, 3rd."""
    ends = "|".join(re.escape(w.surface) for w in unit_words(language)["ordinal_suffix"])
    return re.compile(rf"(?<!\w)(\d{{1,3}})(?:{ends})(?!\w)")


def extract_quantities(articles: pl.DataFrame, sentences: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    languages = dict(articles.select("article_id", "language").iter_rows())
    masks: dict[str, list[tuple[int, int]]] = {}
    for sid, a, z in dates.select("sentence_id", "start_char", "end_char").iter_rows():
        masks.setdefault(sid, []).append((a, z))
    rows = []
    for s in sentences.filter(pl.col("kind") != "other").iter_rows(named=True):
        language = languages[s["article_id"]]
        ordinals = _word_pattern(language, "ordinal")
        if not _DIGIT.search(s["text"]) and (ordinals is None or not ordinals.search(s["text"])):
            continue  # pre-filter: no digit and no ordinal word
        base = s["start_char"]
        masked = [(a - base, z - base) for a, z in masks.get(s["sentence_id"], [])]
        for n, q in enumerate(extract_sentence(s["text"], languages[s["article_id"]], masked)):
            rows.append({
                "quantity_id": f"{s['sentence_id']}-q{n}", "article_id": s["article_id"], "sentence_id": s["sentence_id"],
                "surface": s["text"][q["start"]:q["end"]], "value": q["value"], "unit": q["unit"],
                "dimension": q["dimension"], "counted": q["counted"],
                "start_char": base + q["start"], "end_char": base + q["end"],
            })
    return pl.DataFrame(rows, schema=QUANTITY_SCHEMA)
