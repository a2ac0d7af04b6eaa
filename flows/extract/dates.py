"""Dates: absolute and relative, normalised against the article's publication date where it is known.

  "2023-10-05", "05.10.2023"               day
  "tháng 7/2023", "luglio 2023", "7/2023"   month
  "nel 2018", "vào năm 2021", "in 2018"     year
  "last July", "lo scorso luglio", "w lipcu", "I juli"   month, the latest one not after publication
  "five years ago", "pięć lat temu"         year, publication year minus N
  "last year", "năm ngoái"                  year, publication year minus 1
Month names come from CLDR (Babel) for the article's language, matched on lemmas too ('lipcu' ->
'lipiec'); cue and date words from seeds/languages/<code>/ (cues.csv, dates.csv), number words from units.csv.
A cheap regex pre-filter keeps sentences with no digit, month name or cue out of the parser.
A relative date in an article with no publication date keeps its surface but no value ('unanchored').
"""
from __future__ import annotations

import re
from datetime import date
from functools import cache

import polars as pl

from flows.lexicon.lemmas import lemma
from flows.extract.quantities import unit_words
from flows.lexicon.reference import ANY_LANGUAGE, cues, find_cues

DATE_SCHEMA = {
    "date_id": pl.String,
    "article_id": pl.String,
    "sentence_id": pl.String,
    "surface": pl.String,
    "value": pl.Date,          # first day of the period
    "precision": pl.String,    # year | month | day
    "relative": pl.Boolean,
    "anchor": pl.String,       # absolute | published | unanchored
    "start_char": pl.Int32,
    "end_char": pl.Int32,
}

_ISO = re.compile(r"(?<![\d.,/-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")
_DMY = re.compile(r"(?<![\d.,/])(\d{1,2})[./](\d{1,2})[./](\d{4})(?![\d.,/])")
_MY = re.compile(r"(?<![\d.,/])(\d{1,2})/(\d{4})(?![\d/])")
_DM = re.compile(r"(?<![\d.,/])(\d{1,2})/(\d{1,2})(?![\d/])")
_DIGIT = re.compile(r"\d")


@cache
def _day_month_patterns(language: str) -> tuple[re.Pattern, re.Pattern]:
    """(day month year, day month) patterns; the words between the parts come from the language's data
    (`month_connector`: en 'of', es 'de')."""
    words = [c for c in cues().filter(pl.col("kind") == "month_connector",
                                      pl.col("language").is_in([language, ANY_LANGUAGE]))["cue"].to_list()]
    joined = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    connect = (rf"(?:\s+(?:{joined})\s+|[\s/,.]+)" if joined else r"[\s/,.]+")
    day_month_year = re.compile(
        r"(?:(?P<day>\d{1,2})\.?" + connect + r")?(?P<month>[^\W\d_]{3,})\.?(?:\s(?P<day2>\d{1,2}))?,?"
        + connect + r"(?P<year>(?:19|20)\d\d)(?!\d)")
    day_month = re.compile(
        r"(?:(?P<day>\d{1,2})\.?" + connect + r"(?P<month>[^\W\d_]{3,})(?![\w]))"
        r"|(?:(?P<month2>[^\W\d_]{3,})\.?\s(?P<day2>\d{1,2})(?![\d/.,]\d))")
    return day_month_year, day_month


@cache
def _month_prefix(language: str) -> re.Pattern | None:
    """A word written before a month number (vi 'tháng 7/2023'), which belongs to the date's surface."""
    words = cues().filter(pl.col("kind") == "month_prefix", pl.col("language").is_in([language, ANY_LANGUAGE]))["cue"]
    if not len(words):
        return None
    return re.compile("(?:" + "|".join(re.escape(w) for w in words) + r")\s$", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\w/-])(?<!\d[.,])((?:19|20)\d\d)(?![\w/-])(?![.,]\d)")


@cache
def _months(language: str) -> dict[str, int]:
    from babel import Locale, UnknownLocaleError

    names: dict[str, int] = {}
    for lang in dict.fromkeys([language, "en"]):
        try:
            loc = Locale.parse(lang)
        except (UnknownLocaleError, ValueError):
            continue
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in loc.months[context][width].items():
                    name = name.casefold().strip(".")
                    if len(name) >= 3 and not any(ch.isdigit() for ch in name):
                        names.setdefault(name, number)
        if lang == language:
            break  # English month names only for languages CLDR does not know
    return names


@cache
def _month_prefixes(language: str) -> frozenset[str]:
    return frozenset(name[:3] for name in _months(language))


def _month_of(word: str, language: str) -> int | None:
    folded = word.casefold()
    if folded[:3] not in _month_prefixes(language):
        return None  # cheap: most words share no first letters with a month name
    months = _months(language)
    return months.get(folded) or months.get(lemma(word, language).casefold())


@cache
def _number_words(language: str) -> dict[str, float]:
    return {w.surface.casefold(): w.value for w in unit_words(language).get("number_word", [])}


@cache
def _prefilter(language: str) -> re.Pattern:
    """One regex for 'could hold a date': a digit, a date cue, or a word opening like a month name."""
    from flows.lexicon.reference import cue_matcher

    parts = [r"\d"]
    for kind in ("date_ago", "date_last_year"):
        pattern, _ = cue_matcher(language, kind)
        if pattern is not None:
            parts.append(pattern.pattern)
    heads = sorted(_month_prefixes(language))
    if heads:
        parts.append(r"(?<!\w)(?:" + "|".join(map(re.escape, heads)) + r")")
    return re.compile("|".join(parts), re.IGNORECASE)


def _candidate(text: str, language: str) -> bool:
    """Pre-filter: only sentences with a digit, a month name or a date cue go to the parser."""
    return _prefilter(language).search(text) is not None


def _latest_month(month: int, base: date) -> date:
    """The latest `month` not after the base date."""
    year = base.year if month <= base.month else base.year - 1
    return date(year, month, 1)


def extract_sentence(text: str, language: str, base: date | None) -> list[dict]:
    """Dates in one sentence (offsets relative to it)."""
    found: list[dict] = []

    def add(a, z, value, precision, relative):
        if any(a < f["end"] and f["start"] < z for f in found):
            return
        anchor = "absolute" if not relative else ("published" if value is not None else "unanchored")
        found.append(dict(start=a, end=z, value=value, precision=precision, relative=relative, anchor=anchor))

    def safe(y, m=1, d=1):
        try:
            return date(int(y), int(m), int(d))
        except ValueError:
            return None

    for m in _ISO.finditer(text):
        if (v := safe(m[1], m[2], m[3])):
            add(m.start(), m.end(), v, "day", False)
    for m in _DMY.finditer(text):
        if (v := safe(m[3], m[2], m[1])):
            add(m.start(), m.end(), v, "day", False)
    # relative: "last year"
    for a, z, _ in find_cues(text, language, "date_last_year"):
        add(a, z, date(base.year - 1, 1, 1) if base else None, "year", True)
    # relative: "five years ago", "pięć lat temu", "il y a 5 ans", "vor 5 Jahren"
    numbers = _number_words(language)
    for a, z, cue in find_cues(text, language, "date_ago"):
        window = text[z:z + 30] if cue.position == "after" else text[max(0, a - 30):a]
        m = re.search(r"(\d+|[^\W\d_]+)\s+([^\W\d_]+)\s*$" if cue.position != "after" else r"^\s*(\d+|[^\W\d_]+)\s+([^\W\d_]+)", window)
        if not m:
            continue
        amount = float(m.group(1)) if m.group(1).isdigit() else numbers.get(m.group(1).casefold())
        unit_ok = bool(find_cues(m.group(2), language, "year_word"))
        if amount is None or not unit_ok:
            continue
        start = a - (len(window) - m.start()) if cue.position != "after" else a
        end = z if cue.position != "after" else z + m.end()
        add(start, end, date(base.year - int(amount), 1, 1) if base else None, "year", True)
    # month with a year: "luglio 2023", "July 2023", "5 października 2023", "3 de marzo de 2024",
    # "March 3, 2024"; a short connector word may stand between day, month and year ("de", "of")
    for m in _day_month_patterns(language)[0].finditer(text):
        month = _month_of(m.group("month"), language)
        if month:
            day = m.group("day") or m.group("day2")
            value = safe(m.group("year"), month, day or 1)
            if value:
                add(m.start(), m.end(), value, "day" if day else "month", False)
    # day and month with no year: "Feb 23", "23 March": the latest such day
    for m in _day_month_patterns(language)[1].finditer(text):
        month = _month_of(m.group("month") or m.group("month2"), language)
        day = m.group("day") or m.group("day2")
        if month and day and 1 <= int(day) <= 31:
            value = None
            if base:
                year = base.year if (month, int(day)) <= (base.month, base.day) else base.year - 1
                value = safe(year, month, day)
            add(m.start(), m.end(), value, "day", True)
    for m in _MY.finditer(text):
        if (v := safe(m[2], m[1])):
            prefix = _month_prefix(language)
            hit = prefix.search(text, max(0, m.start() - 20), m.start()) if prefix else None
            add(hit.start() if hit else m.start(), m.end(), v, "month", False)
    # month alone after a cue ("last July", "lo scorso luglio", "w lipcu", "I juli"): the latest such month
    for m in re.finditer(r"[^\W\d_]+(?:\s\d{1,2})?", text):
        month = _month_of(m.group(0), language)
        if not month:
            continue
        before = text[max(0, m.start() - 20):m.start()]
        cue = find_cues(before, language, "date_last")
        if not cue or before[cue[-1][1]:].strip():
            continue
        start = m.start() - (len(before) - cue[-1][0])
        add(start, m.end(), _latest_month(month, base) if base else None, "month", True)
    # day/month without a year ("Ngày 7/7"): the latest such day
    for m in _DM.finditer(text):
        d, mo = int(m[1]), int(m[2])
        if 1 <= d <= 31 and 1 <= mo <= 12 and not (d < mo <= 10):  # 1/5 is a fraction
            value = None
            if base:
                year = base.year if (mo, d) <= (base.month, base.day) else base.year - 1
                value = safe(year, mo, d)
            add(m.start(), m.end(), value, "day", True)
    # a bare year: "nel 2018", "vào năm 2021"
    for m in _YEAR.finditer(text):
        add(m.start(), m.end(), date(int(m[1]), 1, 1), "year", False)
    return sorted(found, key=lambda f: f["start"])


def extract_dates(articles: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    info = {aid: (lang, pub) for aid, lang, pub in articles.select("article_id", "language", "published").iter_rows()}
    rows = []
    for s in sentences.filter(pl.col("kind") != "other").iter_rows(named=True):
        language, published = info[s["article_id"]]
        if not _candidate(s["text"], language):
            continue
        base = s["start_char"]
        for n, d in enumerate(extract_sentence(s["text"], language, published)):
            rows.append({
                "date_id": f"{s['sentence_id']}-d{n}", "article_id": s["article_id"], "sentence_id": s["sentence_id"],
                "surface": s["text"][d["start"]:d["end"]], "value": d["value"], "precision": d["precision"],
                "relative": d["relative"], "anchor": d["anchor"],
                "start_char": base + d["start"], "end_char": base + d["end"],
            })
    return pl.DataFrame(rows, schema=DATE_SCHEMA)
