"""The words a language writes dates with, from data that ships offline.

  dateparser's per-language data (200+ languages): month and weekday names with their inflections
      (ru 'января', pl 'lipca'), relative words ('вчера', 'l'anno scorso', '去年', '지난달') and
      'N units ago / in N units' patterns
  CLDR (Babel): month and weekday names in every locale, as a second source
  seeds/languages/<code>/dates.csv: what neither has (date_forward 'until'; year/month/day markers 年月日)
Only the data is used; dateparser's parser is not (it is slow and over-eager on running text).
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache

import polars as pl
import regex

from flows.lexicon.reference import (
    ANY_LANGUAGE,
    MONTHS,
    NOT_AFTER_LETTER,
    NOT_BEFORE_LETTER,
    WEEKDAYS,
    cues,
    unspaced,
)

UNITS = ("year", "month", "week", "day", "hour")
# "1 day ago" / "in 2 year" / "0 month ago" keys of dateparser's relative-type data
# dates.csv kinds of relative words -> (offset, unit) from publication, as dateparser's '1 day ago' keys read
RELATIVE_KINDS = {
    "date_today": (0, "day"),
    "date_yesterday": (-1, "day"),
    "date_tomorrow": (1, "day"),
    "date_this_year": (0, "year"),
}
_RELATIVE_KEY = re.compile(r"^(in )?(\d+) (year|month|week|day)( ago)?$")


@dataclass
class Vocabulary:
    months: dict[str, int] = field(default_factory=dict)  # folded form -> 1..12
    # forms that name a month with no day or year ('Anfang Oktober', 'в июне'): full names of 4 letters or
    # more (rows of the month's kind in dates.csv too, whatever their length), no abbreviations
    lone_months: dict[str, int] = field(default_factory=dict)
    months_capitalised: bool = False  # CLDR writes 'October' (en, de), not 'octobre'
    weekdays: dict[str, int] = field(default_factory=dict)  # folded form -> 0 (Monday)..6
    relative: dict[str, tuple[int, str]] = field(default_factory=dict)  # 'yesterday' -> (-1, 'day')
    ago: list[tuple[regex.Pattern, str, int]] = field(default_factory=list)  # (pattern with a number, unit, sign)
    units: dict[str, str] = field(default_factory=dict)  # 'anni' -> year, '小时' -> hour


def _dateparser_info(language: str) -> dict:
    for code in (language, {"zh": "zh-Hans", "sr": "sr-Cyrl", "no": "nb"}.get(language, "")):
        if not code:
            continue
        try:
            return importlib.import_module(f"dateparser.data.date_translation_data.{code}").info
        except ImportError:
            continue
    return {}


@cache
def nouns_capitalised(language: str) -> bool:
    """True where nouns are written capitalised (de 'Jahre'), by dateparser's own unit words."""
    info = _dateparser_info(language)
    return any(isinstance(f, str) and f[:1].isupper() for unit in ("year", "day", "week") for f in info.get(unit, []))


def _fold(text: str) -> str:
    return " ".join(text.casefold().split()).strip(".")


def month_number(word: str, language: str) -> int | None:
    """The month a word names in `language` ('Juli', 'Okt' -> 7, 10), else None; no lemmatising."""
    return vocabulary(language).months.get(_fold(word))


def full_month_number(word: str, language: str) -> int | None:
    """The month a full name names ('Oktober', 'июне'; not 'Okt', not ro 'mai'), else None."""
    return vocabulary(language).lone_months.get(_fold(word))


def _forms(info: dict, key: str) -> list[str]:
    return [f for f in info.get(key, []) if isinstance(f, str) and f.strip()]


@cache
def vocabulary(language: str) -> Vocabulary:
    """The date words of `language` (English forms are not added: 'May' would be a month in every text)."""
    info = _dateparser_info(language)
    vocab = Vocabulary()
    for i, name in enumerate(MONTHS, start=1):
        for form in _forms(info, name):
            if len(form) >= 3 or unspaced(form):
                vocab.months.setdefault(_fold(form), i)
            if len(form) >= 5 and not form.endswith("."):  # 'czerwcu', not 'sept' (fr 'seven')
                vocab.lone_months.setdefault(_fold(form), i)
        for form in words(language, name):
            vocab.months.setdefault(_fold(form), i)
            vocab.lone_months.setdefault(_fold(form), i)
    for i, name in enumerate(WEEKDAYS):
        for form in (*_forms(info, name), *words(language, name)):
            if _weekday_form(form):
                vocab.weekdays.setdefault(_fold(form), i)
    _add_cldr(language, vocab)
    for unit in UNITS:
        for form in _forms(info, unit):
            if len(form) >= 3 or unspaced(form):  # 'g', 'h', 'г' abbreviate too much to count on
                vocab.units.setdefault(_fold(form), unit)
    for key, forms in (info.get("relative-type") or {}).items():
        m = _RELATIVE_KEY.match(key)
        if not m:
            continue
        n = int(m.group(2)) * (1 if m.group(1) else -1 if m.group(4) else 0)
        for form in forms:
            if isinstance(form, str) and form.strip() and len(form) >= 2:
                vocab.relative.setdefault(_fold(form), (n, m.group(3)))
    for kind, offset in RELATIVE_KINDS.items():  # the language's own rows (seeds/languages/<code>/dates.csv)
        for form in words(language, kind):
            vocab.relative.setdefault(_fold(form), offset)
    for key, patterns in (info.get("relative-type-regex") or {}).items():
        m = re.match(r"^(in )?\\1 (year|month|week|day)( ago)?$", key)
        if not m:
            continue
        sign = 1 if m.group(1) else -1
        for p in patterns:
            try:
                vocab.ago.append(
                    (regex.compile(NOT_AFTER_LETTER + p + NOT_BEFORE_LETTER, regex.IGNORECASE), m.group(2), sign)
                )
            except regex.error:
                continue
    return vocab


def _weekday_form(form: str) -> bool:
    """Long enough to stand for a weekday: not 'Mo', and in scripts without spaces not one character
    (ja '日' and ko '일' abbreviate Sunday but also write every day of the month: '23日', '23일')."""
    form = form.strip(".")
    return len(form) >= 4 or (unspaced(form) and len(form) >= 2)


def _add_cldr(language: str, vocab: Vocabulary) -> None:
    from babel import Locale, UnknownLocaleError

    try:
        loc = Locale.parse(language)
    except (UnknownLocaleError, ValueError, TypeError):
        return
    vocab.months_capitalised = loc.months["format"]["wide"][1][:1].isupper()
    for context in ("format", "stand-alone"):
        for width in ("wide", "abbreviated"):
            for i, name in loc.months[context][width].items():
                if len(name.strip(".")) >= 3 or unspaced(name):
                    vocab.months.setdefault(_fold(name), i)
                if width == "wide" and len(name) >= 4 and not unspaced(name):  # not ro 'mai' (more), en 'May'
                    vocab.lone_months.setdefault(_fold(name), i)
            for i, name in loc.days[context][width].items():
                if _weekday_form(name):
                    vocab.weekdays.setdefault(_fold(name), i)


@cache
def words(language: str, kind: str) -> tuple[str, ...]:
    """Rows of `kind` from the language's dates.csv (and mul's)."""
    df = cues().filter(pl.col("kind") == kind, pl.col("language").is_in([language, ANY_LANGUAGE]))
    return tuple(sorted(set(df["cue"].to_list()), key=len, reverse=True))


def alternation(forms) -> str:
    """A bounded, longest-first alternation of `forms` (no bounds for scripts written without spaces)."""
    parts = []
    for f in sorted(set(forms), key=len, reverse=True):
        esc = regex.escape(f).replace(r"\ ", r"\s+")
        parts.append(esc if unspaced(f) else NOT_AFTER_LETTER + esc + NOT_BEFORE_LETTER)
    return "|".join(parts)
