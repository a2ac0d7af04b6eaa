"""Dates: absolute and relative, normalised against the article's publication date where it is known.

  "2023-10-05", "05.10.2023", "2023年10月5日", "5 октября 2023", "October 5, 2023"   day
  "10月5日", "5 October", "Oct 5"       day; the year is the publication's (the next such day after a
                                        forward cue: "until March 15", "bis 15. März")
  "23日", "23일"                         day; the month is the publication's (or the one before)
  "luglio 2023", "7/2023", "tháng 7/2023", "2023年10月"                               month
  "in 2018", "2018年"                                                                year
  "yesterday", "l'anno scorso", "去年", "지난달", "on Thursday"   resolved against a day-precise publication date
  "Anfang Oktober", "в июне", "in March"   month; the nearest such month to publication
  "Thursday" in an article known to its month: the first Thursday from the latest day it stated ('told')
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
_DAY_AFTER = regex.compile(r"\s*,?\s*(\d{1,2})(?![\d.,:/]\d|\d)")  # the day's number after a weekday
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
    return out


_DIGIT = regex.compile(r"\d")


@cache
def _date_words(language: str):
    """An Aho-Corasick automaton over the longest word of every date word of `language` (months, weekdays,
    relative words, 'ago' and 'last year' words), casefolded: a sentence holding none and no digit holds no
    date. (One alternation regex of them all cost a quarter of a millisecond a sentence.)"""
    import ahocorasick

    vocab = calendar.vocabulary(language)
    forms = [*vocab.months, *vocab.weekdays, *vocab.relative]
    forms += [w for k in ("date_ago", "date_last_year") for w in calendar.words(language, k)]
    automaton = ahocorasick.Automaton()
    for form in forms:
        if piece := max(form.casefold().split(), key=len, default=""):
            automaton.add_word(piece, None)
    if not len(automaton):
        return None
    automaton.make_automaton()
    return automaton


def may_hold_date(text: str, language: str) -> bool:
    """A cheap pre-filter: a digit, or a piece of a date word (it may over-accept, never miss)."""
    if _DIGIT.search(text):
        return True
    automaton = _date_words(language)
    return automaton is not None and next(automaton.iter(text.casefold()), None) is not None


def _safe(y, m=1, d=1) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except (ValueError, TypeError):
        return None


def _month_of(word: str, language: str) -> int | None:
    return calendar.month_number(word, language) or calendar.month_number(lemma(word, language), language)


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


def extract_sentence(
    text: str, language: str, base: date | None, base_precision: str | None = "day", told: date | None = None
) -> list[dict]:
    """Dates in one sentence (offsets relative to it). `told` is the latest day the article has stated before
    this sentence: where publication is known only to its month, a weekday is the first such day from it."""
    pats = _patterns(language)
    found: list[dict] = []
    day_base = base if base_precision == "day" else None  # 'yesterday' needs the day it was written

    # `day_of_month`: a day written alone ('14일'), which a month before it may complete; `weekday`: a day
    # named by its weekday, which tells the article no day of its own (see extract_dates' `told`)
    def add(a, z, value, precision, relative, anchor="published", day_of_month=None, weekday=False):
        if any(a < f["end"] and f["start"] < z for f in found):
            return
        anchor = "absolute" if not relative else (anchor if value is not None else "unanchored")
        found.append(
            dict(start=a, end=z, value=value, precision=precision, relative=relative, anchor=anchor)
            | dict(day_of_month=day_of_month, weekday=weekday)
        )

    def forward(at: int) -> bool:
        return pats["forward"] is not None and pats["forward"].search(text, max(0, at - 25), at) is not None

    # a sentence may pass the pre-filter by a word alone: without a digit (\d, as these patterns read one)
    # the dates written with numbers cannot match ('N units ago': float() of the number needs a digit)
    digits = _DIGIT.search(text) is not None
    if digits:
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
                    add(m.start(), m.end(), value, "day", True, day_of_month=int(m["day"]))
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
                value, precision = (
                    _shift(anchor, sign * n, unit) if anchor else (None, "year" if unit == "year" else "day")
                )
                add(m.start(), m.end(), value, precision, True)
    _number_word_ago(text, language, base, add)
    # relative words: 'yesterday', 'l'anno scorso', '去年'
    if pats["relative"] is not None:
        vocab = calendar.vocabulary(language)
        for m in pats["relative"].finditer(text):
            n, unit = vocab.relative[" ".join(m.group(0).casefold().split()).strip(".")]
            anchor = day_base if unit in ("day", "week") else base
            value, precision = _shift(anchor, n, unit) if anchor else (None, "day" if unit in ("day", "week") else unit)
            if anchor is None and base is not None and base_precision == "month" and (n, unit) == (0, "day"):
                value, precision = date(base.year, base.month, 1), "month"  # 'today' in an article of September
            add(m.start(), m.end(), value, precision, True)
    _named_months(text, language, base, base_precision, add, forward)
    # weekdays: the latest such day up to publication (the next one after a forward cue)
    if pats["weekday"] is not None:
        vocab = calendar.vocabulary(language)
        for m in pats["weekday"].finditer(text):
            weekday = vocab.weekdays.get(" ".join(m.group(0).casefold().split()).strip("."))
            if weekday is None:
                continue
            if m.group(0).casefold() in _ordinal_words(language) and not m.group(0).split()[-1][:1].isupper():
                continue  # vi 'thứ năm' is 'fifth' unless written as the day's name ('thứ Năm')
            if any(0 <= f["start"] - m.end() <= 2 for f in found):
                continue  # 'الاثنين 11 سبتمبر', 'Monday, 11 September': the date that follows says it
            number = _DAY_AFTER.match(text, m.end())
            if number and (day := _resolve_month_day(int(number[1]), base, forward(m.start()), base_precision)):
                if day.weekday() == weekday:  # 'الأحد 10', 'dimanche 10': that day of the month
                    add(m.start(), number.end(), day, "day", True)
                    continue
            value = None
            if day_base is not None:
                delta = (day_base.weekday() - weekday) % 7
                value = day_base - timedelta(days=delta)
                if forward(m.start()) and delta:
                    value = value + timedelta(days=7)
            elif told is not None and base is not None and base_precision == "month":
                # the article was written after what it has told: the first such weekday from then on
                later = told + timedelta(days=(weekday - told.weekday()) % 7)
                if later <= _period_end(base, "month"):
                    add(m.start(), m.end(), later, "day", True, anchor="told", weekday=True)
                    continue
            add(m.start(), m.end(), value, "day", True, weekday=True)
    for m in _YEAR.finditer(text) if digits else ():
        add(m.start(), m.end(), date(int(m[1]), 1, 1), "year", False)
    _month_then_day(text, found)
    return sorted(found, key=lambda f: f["start"])


def _month_then_day(text: str, found: list[dict]) -> None:
    """ko '지난달 14일', ja '先月14日': a day of the month right after a month is that month's day."""
    for f in [f for f in found if f["precision"] == "month" and f["value"] is not None]:
        for g in found:
            if g["day_of_month"] and 0 <= g["start"] - f["end"] <= 1 and not text[f["end"] : g["start"]].strip():
                value = _safe(f["value"].year, f["value"].month, g["day_of_month"])
                if value is not None:
                    f.update(end=g["end"], value=value, precision="day")
                    found.remove(g)
                break


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


def _named_months(text: str, language: str, base: date | None, precision: str | None, add, forward) -> None:
    """A month named without its day or year. After 'last' ('last July', 'lo scorso luglio'): the latest one.
    After 'in' ('in May', 'w lipcu', ar 'في ديسمبر') or alone ('Anfang Oktober', 'в июне'): the nearest one to
    publication, up to `[dates] future_days` after it (the next one after a forward cue). Alone, only a full
    name written in the case CLDR writes months in: fr 'Mars' (the planet), en 'march' (the verb) are none."""
    pats = _patterns(language)
    if pats["months"] is None:
        return
    for m in pats["months"].finditer(text):
        month = _month_of(m["month"], language)
        if not month:
            continue
        before = text[max(0, m.start() - 20) : m.start()]
        cue = max(
            (
                (a, kind)
                for kind in ("date_last", "month_in")
                for a, z, _ in find_cues(before, language, kind)
                if not before[z:].strip()
            ),
            default=None,
        )
        start = m.start() - (len(before) - cue[0]) if cue else m.start()
        if cue is not None and cue[1] == "date_last":
            value = None
            if base is not None:
                value = date(base.year if month <= base.month else base.year - 1, month, 1)
        elif cue is not None or _written_as_a_month(m["month"], language):
            value = _nearest_month(month, base, forward(m.start()), precision)
        else:
            continue
        add(start, _month_end(m, language), value, "month", True)


def _written_as_a_month(word: str, language: str) -> bool:
    """A full month name (not an abbreviation, not ro 'mai'), in the case CLDR writes months in."""
    if calendar.full_month_number(word, language) is None:
        return False
    capitalised = calendar.vocabulary(language).months_capitalised
    return word[:1].isupper() == capitalised or word[:1].lower() == word[:1].upper()


def _month_end(m: regex.Match, language: str) -> int:
    """Where a month named alone ends: an abbreviation keeps its full stop ('Okt.'), a name does not."""
    return m.end("month") if calendar.full_month_number(m.group("month"), language) else m.end()


def _nearest_month(month: int, base: date | None, forward: bool, precision: str | None) -> date | None:
    if base is None or precision == "year":
        return None
    here = base.year * 12 + base.month - 1
    ahead = setting("dates", "future_days") // 30
    options = [here + k for k in range(-11, 12) if (here + k) % 12 == month - 1]
    options = [o for o in options if (o >= here if forward else o - here <= ahead)]
    best = min(options, key=lambda o: (abs(o - here), o > here), default=None)
    return None if best is None else date(best // 12, best % 12 + 1, 1)


def extract_dates(articles: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    info = {
        aid: (lang, pub, prec)
        for aid, lang, pub, prec in articles.select(
            "article_id", "language", "published", "published_precision"
        ).iter_rows()
    }
    rows = []
    told: dict[str, date] = {}  # article -> the latest day it has stated so far
    # every sentence in article order, datelines and labels ('date 2023-09', '20:30 07.12.2024') included
    for s in sentences.sort("article_id", "position").iter_rows(named=True):
        language, published, precision = info[s["article_id"]]
        text = ascii_digits(s["text"])
        if not may_hold_date(text, language):
            continue
        base = s["start_char"]
        found = extract_sentence(text, language, published, precision, told.get(s["article_id"]))
        for d in found:
            if d["precision"] == "day" and d["value"] is not None and not d["weekday"]:
                told[s["article_id"]] = max(d["value"], told.get(s["article_id"], d["value"]))
        for n, d in enumerate(found):
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
