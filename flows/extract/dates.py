"""Dates: absolute and relative, normalised against the article's publication date where it is known.

  "2023-10-05", "05.10.2023", "2023年10月5日", "5 октября 2023", "October 5, 2023"   day
  "10月5日", "5 October", "Oct 5"       day; the year is the publication's (the next such day after a
                                        forward cue: "until March 15", "bis 15. März")
  "23日", "23일"                         day; the month is the publication's (or the one before)
  "luglio 2023", "7/2023", "tháng 7/2023", "2023年10月"                               month
  "in 2018", "2018年"                                                                year
  "yesterday", "l'anno scorso", "去年", "지난달", "on Thursday"   resolved against a day-precise publication date
  "five years ago", "hace tres años", "3 days ago", "через 2 дня"
Month and weekday names and relative words come from dateparser's language data and CLDR
(flows/lexicon/calendar.py), for every language they know; seeds/languages/<code>/dates.csv adds the rest.
A cheap pre-filter keeps sentences with nothing date-like out. A relative date that cannot be resolved
keeps its surface and no value ('unanchored').
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import polars as pl
import regex

from flows.config import setting
from flows.extract.quantities import ascii_digits, unit_words
from flows.lexicon import calendar
from flows.lexicon.lemmas import lemma
from flows.lexicon.reference import find_cues
from flows.warehouse.tables import DATES

DATE_SCHEMA = DATES.polars

_D = r"(?<![\d.,/-])"  # a number that does not continue another one
_NOT_ON = r"(?!\d|[.,/-]\d)"  # ... and is not continued by one (a final full stop or comma may follow)
_ISO = regex.compile(_D + r"(\d{4})-(\d{1,2})-(\d{1,2})" + _NOT_ON)
_YMD = regex.compile(_D + r"(\d{4})([/.])(\d{1,2})\2(\d{1,2})" + _NOT_ON)  # 2024/03/26, ko 2023.08.24
_YM = regex.compile(_D + r"((?:19|20)\d\d)-(\d{1,2})" + _NOT_ON)  # ISO year-month: 2023-09
_DMY = regex.compile(_D + r"(\d{1,2})([./])(\d{1,2})\2(\d{4})" + _NOT_ON)
_MY = regex.compile(_D + r"(\d{1,2})/(\d{4})(?![\d/])")
_YEAR = regex.compile(r"(?<![\d.,/:-])(?<![\p{L}\p{M}])(1[89]\d\d|20\d\d)(?![\d.,]\d)(?![\p{L}\p{M}%])")


@cache
def _patterns(language: str) -> dict[str, regex.Pattern | None]:
    """The language's date patterns, built once from its vocabulary."""
    vocab = calendar.vocabulary(language)
    months = calendar.alternation(vocab.months) or None
    connectors = [regex.escape(w) for w in calendar.words(language, "month_connector")]
    join = rf"(?:\s+(?:{'|'.join(connectors)})\s+|[\s/,.]+|\s*-\s*)" if connectors else r"(?:[\s/,.]+|\s*-\s*)"
    out: dict[str, regex.Pattern | None] = {"months": None}
    if months:
        m = rf"(?P<month>{months})\.?"
        out["months"] = regex.compile(m, regex.IGNORECASE)
        out["dmy"] = regex.compile(
            rf"(?P<day>\d{{1,2}})(?:\.|er|º)?{join}{m}{join}(?P<year>(?:19|20)\d\d)(?!\d)", regex.IGNORECASE
        )
        out["mdy"] = regex.compile(
            rf"{m}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)(?!\d)", regex.IGNORECASE
        )
        out["my"] = regex.compile(rf"{m}{join}(?P<year>(?:19|20)\d\d)(?!\d)", regex.IGNORECASE)
        out["dm"] = regex.compile(
            rf"(?<![\d.,])(?P<day>\d{{1,2}})(?:\.|er|º)?{join}{m}(?![\p{{L}}\p{{M}}])", regex.IGNORECASE
        )
        out["md"] = regex.compile(rf"{m}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?![\d/.,]\d)(?!\d)", regex.IGNORECASE)
    markers = {k: [regex.escape(w) for w in calendar.words(language, f"{k}_marker")] for k in ("year", "month", "day")}
    if all(markers.values()):
        y, mo, d = ("(?:" + "|".join(markers[k]) + ")" for k in ("year", "month", "day"))
        out["cjk"] = regex.compile(
            rf"(?:(?P<year>\d{{4}})\s*{y}\s*)?(?P<month>\d{{1,2}})\s*{mo}\s*(?:(?P<day>\d{{1,2}})\s*{d})?"
        )
        out["cjk_year"] = regex.compile(rf"(?P<year>\d{{4}})\s*{y}(?!\s*\d)")
        spans = calendar.words(language, "day_span")
        not_span = rf"(?!\s*(?:{'|'.join(regex.escape(w) for w in spans)}))" if spans else ""
        # a day of the month alone ('23日'): not part of a longer number, a month or a time
        out["cjk_day"] = regex.compile(rf"(?<!\d|\d[.,:/]|{mo}\s*)(?P<day>\d{{1,2}})\s*{d}{not_span}")
    else:
        out["cjk"] = out["cjk_year"] = out["cjk_day"] = None
    rel = calendar.alternation(vocab.relative)
    out["relative"] = regex.compile(rel, regex.IGNORECASE) if rel else None
    days = calendar.alternation(vocab.weekdays)
    out["weekday"] = regex.compile(days, regex.IGNORECASE) if days else None
    forward = calendar.words(language, "date_forward")
    out["forward"] = (
        regex.compile(r"(?:" + calendar.alternation(forward) + r")\s*$", regex.IGNORECASE) if forward else None
    )
    prefix = calendar.words(language, "month_prefix")
    out["month_prefix"] = (
        regex.compile("(?:" + "|".join(regex.escape(w) for w in prefix) + r")\s$", regex.IGNORECASE) if prefix else None
    )
    parts = [r"\d"] + [p.pattern for k, p in out.items() if k in ("months", "relative", "weekday") and p is not None]
    parts += [
        calendar.alternation(calendar.words(language, k))
        for k in ("date_ago", "date_last_year")
        if calendar.words(language, k)
    ]
    out["any"] = regex.compile("|".join(parts), regex.IGNORECASE)
    return out


def _safe(y, m=1, d=1) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except (ValueError, TypeError):
        return None


def _month_of(word: str, language: str) -> int | None:
    months = calendar.vocabulary(language).months
    key = " ".join(word.casefold().split()).strip(".")
    return months.get(key) or months.get(lemma(word, language).casefold())


def _resolve_day(month: int, day: int, base: date | None, forward: bool, precision: str | None = "day") -> date | None:
    """A day with no year: the nearest such day to publication, up to `[dates] future_days` after it (an
    announced date: '22 April' in a March article), else the latest one before it; after a forward cue
    ('until 15 March'), the next one. A publication known to the month or year ends with that period."""
    if base is None:
        return None
    latest = _period_end(base, precision)
    candidates = [v for year in (base.year - 1, base.year, base.year + 1) if (v := _safe(year, month, day))]
    if forward:
        return min((v for v in candidates if v >= base), default=None)
    horizon = latest + timedelta(days=setting("dates", "future_days"))
    near = [v for v in candidates if v <= horizon]
    return min(near, key=lambda v: (abs((v - latest).days), v > latest), default=None)


def _period_end(base: date, precision: str | None) -> date:
    if precision == "year":
        return date(base.year, 12, 31)
    if precision == "month":
        return date(base.year + base.month // 12, base.month % 12 + 1, 1) - timedelta(days=1)
    return base


def _resolve_month_day(day: int, base: date | None, forward: bool, precision: str | None = "day") -> date | None:
    """A day of the month with no month ('23日'): the latest such day up to publication (the next one
    after a forward cue), in the publication's month or the one before (after). A publication known only
    to its month puts it in that month; one known only to its year says nothing."""
    if base is not None and precision == "month":
        return _safe(base.year, base.month, day)
    if base is None or precision != "day":
        return None
    step = 1 if forward else -1
    months = base.year * 12 + base.month - 1
    for offset in (0, step, 2 * step):  # a 31st may skip a month
        y, m = divmod(months + offset, 12)
        value = _safe(y, m + 1, day)
        if value is not None and ((value >= base) if forward else (value <= base)):
            return value
    return None


def _shift(base: date, n: int, unit: str) -> tuple[date, str]:
    if unit == "year":
        return date(base.year + n, 1, 1), "year"
    if unit == "month":
        months = base.year * 12 + base.month - 1 + n
        return date(months // 12, months % 12 + 1, 1), "month"
    days = n * (7 if unit == "week" else 1)
    return base + timedelta(days=days), "day"


def extract_sentence(text: str, language: str, base: date | None, base_precision: str | None = "day") -> list[dict]:
    """Dates in one sentence (offsets relative to it)."""
    pats = _patterns(language)
    found: list[dict] = []
    day_base = base if base_precision == "day" else None  # 'yesterday' needs the day it was written

    def add(a, z, value, precision, relative):
        if any(a < f["end"] and f["start"] < z for f in found):
            return
        anchor = "absolute" if not relative else ("published" if value is not None else "unanchored")
        found.append(dict(start=a, end=z, value=value, precision=precision, relative=relative, anchor=anchor))

    def forward(at: int) -> bool:
        return pats["forward"] is not None and pats["forward"].search(text, max(0, at - 25), at) is not None

    for pattern, order in ((_ISO, (1, 2, 3)), (_YMD, (1, 3, 4)), (_DMY, (4, 3, 1))):
        for m in pattern.finditer(text):
            if (v := _safe(*(m[i] for i in order))) is not None:
                add(m.start(), m.end(), v, "day", False)
    for m in _YM.finditer(text):
        if 1 <= int(m[2]) <= 12:
            add(m.start(), m.end(), date(int(m[1]), int(m[2]), 1), "month", False)
    if pats["cjk"] is not None:
        for m in pats["cjk"].finditer(text):
            month, day, year = int(m["month"]), m["day"], m["year"]
            if not 1 <= month <= 12:
                continue
            if year and day:
                add(m.start(), m.end(), _safe(year, month, day), "day", False)
            elif year:
                add(m.start(), m.end(), _safe(year, month), "month", False)
            elif day:
                value = _resolve_day(month, int(day), base, forward(m.start()), base_precision)
                add(m.start(), m.end(), value, "day", True)
        for m in pats["cjk_year"].finditer(text):
            add(m.start(), m.end(), _safe(m["year"]), "year", False)
        for m in pats["cjk_day"].finditer(text):
            if 1 <= int(m["day"]) <= 31:
                value = _resolve_month_day(int(m["day"]), base, forward(m.start()), base_precision)
                add(m.start(), m.end(), value, "day", True)
    if pats["months"] is not None:
        for kind in ("dmy", "mdy"):
            for m in pats[kind].finditer(text):
                month = _month_of(m["month"], language)
                if month and (v := _safe(m["year"], month, m["day"])):
                    add(m.start(), m.end(), v, "day", False)
        for m in pats["my"].finditer(text):
            month = _month_of(m["month"], language)
            if month:
                add(m.start(), m.end(), _safe(m["year"], month), "month", False)
        for kind in ("dm", "md"):
            for m in pats[kind].finditer(text):
                month, day = _month_of(m["month"], language), int(m["day"])
                if month and 1 <= day <= 31:
                    value = _resolve_day(month, day, base, forward(m.start()), base_precision)
                    add(m.start(), m.end(), value, "day", True)
    for m in _MY.finditer(text):
        if (v := _safe(m[2], m[1])) and 1 <= int(m[1]) <= 12:
            prefix = pats["month_prefix"]
            hit = prefix.search(text, max(0, m.start() - 20), m.start()) if prefix else None
            add(hit.start() if hit else m.start(), m.end(), v, "month", False)
    # 'N units ago', 'in N units' (digits)
    for pattern, unit, sign in calendar.vocabulary(language).ago:
        for m in pattern.finditer(text):
            try:
                n = int(float(m.group(1).replace(",", ".")))
            except (ValueError, IndexError):
                continue
            anchor = day_base if unit in ("day", "week") else base
            value, precision = _shift(anchor, sign * n, unit) if anchor else (None, "year" if unit == "year" else "day")
            add(m.start(), m.end(), value, precision, True)
    _number_word_ago(text, language, base, add)
    # relative words: 'yesterday', 'l'anno scorso', '去年'
    if pats["relative"] is not None:
        vocab = calendar.vocabulary(language)
        for m in pats["relative"].finditer(text):
            n, unit = vocab.relative[" ".join(m.group(0).casefold().split()).strip(".")]
            anchor = day_base if unit in ("day", "week") else base
            value, precision = _shift(anchor, n, unit) if anchor else (None, "day" if unit in ("day", "week") else unit)
            add(m.start(), m.end(), value, precision, True)
    _last_month(text, language, base, add)
    # weekdays: the latest such day up to publication (the next one after a forward cue)
    if pats["weekday"] is not None:
        vocab = calendar.vocabulary(language)
        for m in pats["weekday"].finditer(text):
            weekday = vocab.weekdays.get(" ".join(m.group(0).casefold().split()).strip("."))
            if weekday is None:
                continue
            if m.group(0).casefold() in _ordinal_words(language) and not m.group(0).split()[-1][:1].isupper():
                continue  # vi 'thứ năm' is 'fifth' unless written as the day's name ('thứ Năm')
            value = None
            if day_base is not None:
                delta = (day_base.weekday() - weekday) % 7
                value = day_base - timedelta(days=delta)
                if forward(m.start()) and delta:
                    value = value + timedelta(days=7)
            add(m.start(), m.end(), value, "day", True)
    for m in _YEAR.finditer(text):
        add(m.start(), m.end(), date(int(m[1]), 1, 1), "year", False)
    return sorted(found, key=lambda f: f["start"])


@cache
def _ordinal_words(language: str) -> frozenset[str]:
    return frozenset(w.surface.casefold() for w in unit_words(language).get("ordinal", []))


def _number_word_ago(text: str, language: str, base: date | None, add) -> None:
    """'five years ago', 'pięć lat temu', 'il y a cinq ans': the language's date_ago and year words."""
    numbers = {w.surface.casefold(): w.value for w in unit_words(language).get("number_word", [])}
    for a, z, cue in find_cues(text, language, "date_ago"):
        window = text[z : z + 30] if cue.position == "after" else text[max(0, a - 30) : a]
        pattern = (
            r"^\s*(\d+|[\p{L}\p{M}]+)\s+([\p{L}\p{M}]+)"
            if cue.position == "after"
            else r"(\d+|[\p{L}\p{M}]+)\s+([\p{L}\p{M}]+)\s*$"
        )
        m = regex.search(pattern, window)
        if not m:
            continue
        amount = float(m.group(1)) if m.group(1).isdigit() else numbers.get(m.group(1).casefold())
        if amount is None or not find_cues(m.group(2), language, "year_word"):
            continue
        start = a - (len(window) - m.start()) if cue.position != "after" else a
        end = z + m.end() if cue.position == "after" else z
        add(start, end, date(base.year - int(amount), 1, 1) if base else None, "year", True)
    for a, z, _ in find_cues(text, language, "date_last_year"):
        add(a, z, date(base.year - 1, 1, 1) if base else None, "year", True)


def _last_month(text: str, language: str, base: date | None, add) -> None:
    """A month named alone after 'last' / 'in' ('last July', 'lo scorso luglio', 'w lipcu'): the latest one."""
    pats = _patterns(language)
    if pats["months"] is None:
        return
    for m in pats["months"].finditer(text):
        month = _month_of(m["month"], language)
        if not month:
            continue
        before = text[max(0, m.start() - 20) : m.start()]
        cue = find_cues(before, language, "date_last")
        if not cue or before[cue[-1][1] :].strip():
            continue
        value = None
        if base is not None:
            year = base.year if month <= base.month else base.year - 1
            value = date(year, month, 1)
        add(m.start() - (len(before) - cue[-1][0]), m.end(), value, "month", True)


def extract_dates(articles: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    info = {
        aid: (lang, pub, prec)
        for aid, lang, pub, prec in articles.select(
            "article_id", "language", "published", "published_precision"
        ).iter_rows()
    }
    rows = []
    # every sentence, datelines and labels ('date 2023-09', '20:30 07.12.2024') included
    for s in sentences.iter_rows(named=True):
        language, published, precision = info[s["article_id"]]
        text = ascii_digits(s["text"])
        if not _patterns(language)["any"].search(text):
            continue
        base = s["start_char"]
        for n, d in enumerate(extract_sentence(text, language, published, precision)):
            rows.append(
                {
                    "date_id": f"{s['sentence_id']}-d{n}",
                    "article_id": s["article_id"],
                    "sentence_id": s["sentence_id"],
                    "surface": s["text"][d["start"] : d["end"]],
                    "value": d["value"],
                    "precision": d["precision"],
                    "relative": d["relative"],
                    "anchor": d["anchor"],
                    "start_char": base + d["start"],
                    "end_char": base + d["end"],
                }
            )
    return pl.DataFrame(rows, schema=DATE_SCHEMA)
