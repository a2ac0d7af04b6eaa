"""Quantities: locale-aware numbers with scale words, units, currencies, percentages, ordinals, fractions.

"100milioni di euro" -> 100000000 EUR; "€100mn" -> 100000000 EUR; "3,7 tỷ euro" -> 3700000000 EUR;
"30,000 square meter" -> 30000 m2; "326 triệu gói hàng" -> 326000000 count (of "gói hàng");
"quinto", "fifth-largest", "fünftgrößte" -> 5 ordinal; "two people" -> 2 count; "1/5" -> 0.2 fraction;
"%5", "yüzde 5" -> 5 %. Digits in any script (Arabic-Indic, Persian, full-width) count as digits.
Spelled numbers combine their words: "cinquemila" 5000, "vingt-cinq ans" 25 year, "elf Millionen
schwedischen Kronen" 11000000 SEK, zh "三十五人" 35, "千年" 1000 year; "11 bin 300" is 11300; numbers
listed after a magnitude are magnitudes ("magnitudes de 5,5, 4,7 et 5,9").
Not quantities: model names and codes glued to a number (5G, 4K, B737), names in a series (Chandrayaan-3,
zh "3号", ko "3호"), times of day ("5:30", ja "午後6時", ko "오후 6시 4분"), reference numbers after an
abbreviation (art. 130, ust. 1, Nr. 5, § 3), years and date parts (flows/extract/dates.py masks them).
Decimal and group symbols come from CLDR (Babel) for the article's language; words come from
seeds/languages/<code>/units.csv, the language's own rows before those every language shares.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import polars as pl
import regex

from flows.config import setting
from flows.lexicon.names import function_words
from flows.lexicon.reference import ANY_LANGUAGE, NOT_BEFORE_LETTER, cues, find_outlets, unit_rows, unspaced
from flows.warehouse.tables import QUANTITIES

QUANTITY_SCHEMA = QUANTITIES.polars
# a number: digits with group separators (. , space, no-break spaces, apostrophe) and a decimal part
_NUMBER = re.compile(r"(?<![\d.,/])(\d{1,3}(?:[.,\u00a0\u202f' ]\d{3})+|\d+)(?:([.,])(\d+))?(?![\d/])")
_FRACTION = re.compile(r"(?<![\w/.,])(\d{1,2})/(\d{1,2})(?![\w/])")
_SPACE = re.compile(r"[ \u00a0\u202f]?")
_DIGIT = re.compile(r"\d")
_CLOCK_MINUTES = re.compile(r"\s?[:：]\s?\d{2}(?![\d:])")  # ':30' after an hour: a time of day
# a reference number, not a quantity: "art. 130", "ust. 1", "Nr. 5", "§ 3", "No. 7", "№ 2"
_REFERENCE = regex.compile(r"(?:(?<![\p{L}\p{M}])\p{L}{1,3}\.|§|№|#)\s*$")
_ARABIC_SEPARATORS = {"\u066b": ".", "\u066c": ","}  # Arabic decimal and thousands separators
_NEXT_WORD = regex.compile(r"(?:\s+|-)[«»„“\"‹]?([\p{L}\p{M}]+)")
_WORD_THEN_SPACE = regex.compile(r"([\p{L}\p{M}]+)(?:\s+|['’])")
_PERCENT_BEFORE = regex.compile(r"%\s?$")
_GROUPED = re.compile(r"\d{1,3}(?:[.,\u00a0\u202f']\d{3})+")
_LOWER_WORD = regex.compile(r"\s\p{Ll}[\p{Ll}\p{M}]+(?=\s)")
_CLAUSE_END = regex.compile(r"\s?(?:[.!?;)]|$)")
_LETTER = regex.compile(r"[\p{L}\p{M}]")
_CASED_LETTER = regex.compile(r"[\p{Lu}\p{Ll}\p{Lt}]")
UNIT_KINDS_WITH_FACTOR = ("area", "mass", "length")


def ascii_digits(text: str) -> str:
    """The same text with every decimal digit (Arabic-Indic, Persian, full-width...) as 0-9: same offsets."""
    if text.isascii():
        return text
    return text.translate(_digit_table())


@cache
def _digit_table() -> dict[int, str]:
    """Every non-ASCII character with a digit value (the planes where Unicode has them) -> its ASCII digit."""
    table = {ord(k): v for k, v in _ARABIC_SEPARATORS.items()}
    for code in range(0x80, 0x20000):
        ch = chr(code)
        if ch.isdigit() and (value := unicodedata.digit(ch, None)) is not None:
            table[code] = str(value)
    return table


@dataclass(frozen=True)
class Word:
    surface: str
    kind: str
    unit: str
    value: float
    own: bool = True  # the language's own row (a shared `mul` row loses a tie to it)


@cache
def unit_words(language: str) -> dict[str, list[Word]]:
    """kind -> words for `language` and every language, longest first, the language's own first on a tie."""
    df = unit_rows().filter(pl.col("language").is_in([language, ANY_LANGUAGE]))
    out: dict[str, list[Word]] = {}
    for row in df.iter_rows(named=True):
        value = 0.0 if row["value"] is None else float(row["value"])
        out.setdefault(row["kind"], []).append(
            Word(row["surface"], row["kind"], row["unit"] or "", value, row["language"] == language)
        )
    for kind in out:
        out[kind].sort(key=lambda w: (-len(w.surface), not w.own))
    return out


@cache
def _word_pattern(language: str, kind: str) -> regex.Pattern | None:
    words = unit_words(language).get(kind, [])
    if not words:
        return None
    alts = []
    for w in words:
        esc = regex.escape(w.surface).replace(r"\ ", r"\s+")
        # in scripts without spaces (and Hangul, which glues particles on) a word may run on
        glued = unspaced(w.surface) or not w.surface[-1].isalnum()
        alts.append(esc + ("" if glued else NOT_BEFORE_LETTER))
    return regex.compile("(?:" + "|".join(alts) + ")", regex.IGNORECASE)


def _match_word(text: str, pos: int, language: str, kind: str) -> tuple[Word, int] | None:
    """A `kind` word starting at `pos`: (word, end)."""
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
    return _SPACE.match(text, pos).end()


def _counted(text: str, pos: int, language: str) -> str | None:
    """The noun a bare number counts: one word (two syllables where a syllable is a word: 'gói hàng')."""
    fw = function_words(language)
    limit = 2 if language in setting("names", "syllabic_languages") else 1
    words = []
    window = text[pos : pos + 60]
    linked = regex.match(r"\s*([\p{L}\p{M}]{1,3})(?:\s+|['’])(?=\p{Ll}|\p{Lo})", window)
    if linked and not any(ch.isupper() for ch in linked.group(1)) and linked.group(1) in fw:
        # a function word between a number and what it counts: ro '40 de șefi', fr '1,9 million d’habitants',
        # ar '10100 في عداد' (only before a word that is not a name: '5 in Paris' counts nothing)
        window, pos = window[linked.end() :], pos + linked.end()
    for m in regex.finditer(r"\s*([\p{L}\p{M}][\p{L}\p{M}\p{N}-]*)", window):
        if m.start() != (0 if not words else words[-1][1]) and not words:
            break
        w = m.group(1)
        if w.casefold() in fw and len(w) <= 3:
            break  # 'of the', 'di', 'в': what follows a number is then no counted noun (long stop-list words can be)
        words.append((w, m.end()))
        if len(words) == limit:
            break
    return " ".join(w for w, _ in words) or None


@cache
def _according_words(language: str) -> frozenset[str]:
    """Words that are also 'according to' cues ('secondo', 'segundo'): an ordinal only before a noun."""
    df = cues().filter(pl.col("kind") == "according_to", pl.col("language") == language)
    return frozenset(c.casefold() for c in df["cue"])


def extract_sentence(text: str, language: str, masked: list[tuple[int, int]]) -> list[dict]:
    """Quantities in one sentence (offsets relative to it); `masked` spans are dates."""
    text = ascii_digits(text)
    found: list[dict] = []
    masked = list(masked)

    def free(a, z):
        return not any(a < mz and ma < z for ma, mz in masked + [(q["start"], q["end"]) for q in found])

    for m in _FRACTION.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if 0 < a < b <= 10 and free(m.start(), m.end()):
            found.append(
                dict(start=m.start(), end=m.end(), value=a / b, unit="fraction", dimension="fraction", counted=None)
            )
    _suffix_ordinals(text, language, found, free)  # '21st', hi '19वीं' before '19' is read as a count
    numbers = list(_NUMBER.finditer(text))
    for m in numbers:
        if not free(m.start(), m.end()):
            continue
        clock = _clock(text, m, language)
        if clock is not None:
            masked.append((m.start(), clock))  # a time of day: '5:30', '午後6時', '오후 6시 4분'
            continue
        q = _number_quantity(text, m, language)
        if q is not None and free(q["start"], q["end"]):
            found.append(q)
    _ordinals(text, language, found, free)  # before number words: vi 'thứ năm' is 'fifth', not 'five'
    _number_words(text, language, found, free)
    _listed_measures(text, language, numbers, found, free)
    _ranges(text, language, found, free)
    return sorted(found, key=lambda q: q["start"])


def _number_quantity(text: str, m: re.Match, language: str) -> dict | None:
    start, end = m.start(), m.end()
    before = text[start - 1] if start else ""
    value = parse_number(m.group(1), m.group(2), m.group(3), language)
    is_plain_year = re.fullmatch(r"(1[89]|20)\d\d", m.group(0)) is not None
    unit, dimension = "count", "count"
    # currency before: €100, $5, USD 100, Rp5, RM 5
    window = max(0, start - 6)
    stripped = text[window:start].rstrip()
    for w in unit_words(language).get("currency", []):
        if stripped.endswith(w.surface):
            lead = stripped[: -len(w.surface)]
            if w.surface[0].isalpha() and lead and lead[-1].isalnum():
                continue  # the letters end another word
            unit, dimension = w.unit, "currency"
            start = window + len(lead)
            break
    if dimension == "count":
        if before and _CASED_LETTER.match(before):
            return None  # a digit inside a word: TVN24, B737, m2
        if before == "-" and start >= 2 and _LETTER.match(text[start - 2]):
            return None  # a name in a series: Chandrayaan-3, Luna-25, I-695, COVID-19
        if _REFERENCE.search(text, max(0, start - 8), start):
            return None  # art. 130, Nr. 5
        # a percent sign or word before the number: '%5', 'yüzde 5'
        pct = _PERCENT_BEFORE.search(text, max(0, start - 2), start)
        if pct is None and (words := _percent_before_pattern(language)) is not None:
            pct = words.search(text, max(0, start - 30), start)
        if pct is not None:
            span = len(pct.group(0))
            return dict(start=start - span, end=end, value=value, unit="%", dimension="percent", counted=None)
        measure = _measure_before(text, start, language)  # 'magnitude 7.6', zh '规模7.6'
        if measure is not None and 0 < value < 10:  # a magnitude scale ends at 10: 'Stärke von 5000' is no magnitude
            return dict(start=measure[1], end=end, value=value, unit=measure[0], dimension="measure", counted=None)
    grouped = bool(_GROUPED.fullmatch(m.group(1)))  # '1.000', '10,000': written as an amount, never a code
    return _quantity_after(
        text, start, end, value, language, unit, dimension, plain_year=is_plain_year, grouped=grouped
    )


def _quantity_after(
    text: str,
    start: int,
    end: int,
    value: float,
    language: str,
    unit: str = "count",
    dimension: str = "count",
    plain_year: bool = False,
    spelled: bool = False,
    grouped: bool = False,
) -> dict | None:
    """What follows a number (digits or words) from `end`: a scale, a unit, a time unit, what it counts."""
    counted = None
    pos = _after(text, end)
    scale = _match_word(text, end, language, "scale") or _match_word(text, pos, language, "scale")
    if scale:
        value = round(value * scale[0].value, 6)  # 8,2 Millionen is 8200000, not 8199999.999999999
        end = scale[1]
        rest = _NUMBER.match(text, _after(text, end))
        if rest and not spelled:  # tr '11 bin 300': the smaller part after the scale word adds to it
            small = parse_number(rest.group(1), rest.group(2), rest.group(3), language)
            if small < scale[0].value and not _match_word(text, _after(text, rest.end()), language, "scale"):
                value, end = value + small, rest.end()
        pos = _after(text, end)
    if dimension == "count":
        # 'di euro', 'de dólares': one function word between the number and its unit
        fw = _WORD_THEN_SPACE.match(text, pos)
        if fw and fw.group(1).casefold() not in function_words(language):
            fw = None
        for kind in ("percent", "currency", "area", "mass", "length", "measure"):
            hit = _match_word(text, end, language, kind) or _match_word(text, pos, language, kind)
            if hit is None and kind == "measure" and text[end : end + 1] == "-":
                hit = _match_word(text, end + 1, language, kind)  # 'a 6.8-magnitude quake'
            if hit is None and fw is not None:
                hit = _match_word(text, fw.end(), language, kind)
            if hit:
                unit, dimension = hit[0].unit, hit[0].kind
                if kind in UNIT_KINDS_WITH_FACTOR and hit[0].value not in (0.0, 1.0):
                    value = round(value * hit[0].value, 6)  # dunam -> 1000 m2
                end = hit[1]
                break
    duration = None
    if dimension == "count":
        duration = _duration(text, end, language) or (spelled and _glued_duration(text, end, language)) or None
        between = _LOWER_WORD.match(text, end)
        if duration is None and between is not None and between.group(0).strip() in function_words(language):
            duration = _duration(text, between.end(), language)  # 'three more days', 'fünf weitere Jahre'
            if duration is not None and text[between.end()] not in " \u00a0":
                duration = None  # (a noun between is what the number counts: '5 people days ago')
    if duration is not None:
        return dict(start=start, end=duration[1], value=value, unit=duration[0], dimension="duration", counted=None)
    if dimension == "count":
        if _match_word(text, end, language, "serial") or _match_word(text, pos, language, "serial"):
            return None  # a name in a series: zh '3号', ko '3호'
        nxt = text[end : end + 1]
        if not spelled and nxt and _CASED_LETTER.match(nxt):
            return None  # a code glued to the number: 5G, 4K, 3D
        counted = _counted(text, end, language)
        if plain_year and not scale and not (nxt and unspaced(nxt) and nxt.isalpha()):
            noun = counted is not None and text.startswith(counted, pos) and len(counted) >= 3
            if not noun or counted[:1].isupper() or counted.casefold() in function_words(language):
                return None  # a year: flows/extract/dates.py (but zh '2000人', ar '1832 جريحا' count people)
        ends_clause = spelled and _CLAUSE_END.match(text, end) is not None  # 'Crews rescued two.'
        if counted is None and not scale and not grouped and not ends_clause:
            return None  # a bare number with nothing counted ('Il Sole 24 Ore'): not a quantity ('1.000' is)
    return dict(start=start, end=end, value=value, unit=unit, dimension=dimension, counted=counted)


def _clock(text: str, m: re.Match, language: str) -> int | None:
    """Where a time of day that begins with the number `m` ends, or None: '5:30', '15:30', zh '凌晨5時30分',
    ja '午後6時', ko '오후 6시 4분', hi 'दोपहर 2 बजकर 35 मिनट', ru '3 часов дня'."""
    end = m.end()
    colon = _CLOCK_MINUTES.match(text, end)
    if colon:
        return colon.end()
    if m.start() and text[m.start() - 1] in ":：" and m.start() >= 2 and text[m.start() - 2].isdigit():
        return end
    hour = _match_word(text, end, language, "clock_after") or _match_word(
        text, _after(text, end), language, "clock_after"
    )
    if hour is not None:
        duration = _duration(text, end, language)
        if duration is not None and duration[1] > hour[1]:
            hour = None  # ja '3時間', ko '3시간' are three hours, not three o'clock
    pattern = _clock_before_pattern(language)
    before = pattern is not None and pattern.search(text, max(0, m.start() - 16), m.start()) is not None
    if hour is None and not before:
        return None
    end = hour[1] if hour is not None else end
    minutes = _NUMBER.match(text, _after(text, end))
    if minutes and float(minutes.group(1).replace(",", ".")) < 60 and not minutes.group(2):
        end = minutes.end()  # the minutes after the hour: '6시 4분', '5時30分'
        after = _duration(text, end, language)
        if after is not None:
            end = after[1]
    return end


@cache
def _percent_before_pattern(language: str) -> regex.Pattern | None:
    """A percent word just before a number: tr 'yüzde 5'."""
    words = [w.surface for w in unit_words(language).get("percent", []) if w.surface.isalpha()]
    if not words:
        return None
    return regex.compile("(?:" + "|".join(regex.escape(w) for w in words) + r")\s$", regex.IGNORECASE)


@cache
def _clock_before_pattern(language: str) -> regex.Pattern | None:
    """A clock_before word ending just before a number: ja '午後', zh '凌晨', ko '오후'."""
    words = unit_words(language).get("clock_before", [])
    if not words:
        return None
    alts = [("" if unspaced(w.surface) else r"(?<![\p{L}\p{M}])") + regex.escape(w.surface) for w in words]
    return regex.compile("(?:" + "|".join(alts) + r")\s?$", regex.IGNORECASE)


def _listed_measures(text: str, language: str, numbers: list, found: list[dict], free) -> None:
    """Numbers listed with a measure take its unit: 'magnitudes de 5,5, 4,7, 6,3 et 5,9', ar 'بقوة 5.5 و4.7 و6.3'."""
    joins = _list_join_pattern(language)
    measures = [q for q in found if q["dimension"] == "measure"]
    if not measures:
        return
    for direction in (1, -1):
        ordered = numbers if direction == 1 else numbers[::-1]
        current = None  # the measure quantity the list continues
        for m in ordered:
            q = next((q for q in found if q["start"] <= m.start() < q["end"]), None)
            if q is not None and q["dimension"] == "measure":
                current = q
                continue
            if current is None:
                continue
            gap = (current["end"], m.start()) if direction == 1 else (m.end(), current["start"])
            value = parse_number(m.group(1), m.group(2), m.group(3), language)
            if not joins.fullmatch(text, *gap) or not 0 < value < 10:
                current = None
                continue
            if q is not None and q["dimension"] != "count":
                current = None
                continue
            if q is None and not free(m.start(), m.end()):
                current = None
                continue
            new = dict(
                start=m.start(), end=m.end(), value=value, unit=current["unit"], dimension="measure", counted=None
            )
            if q is not None:
                found.remove(q)
            found.append(new)
            current = new


def _ranges(text: str, language: str, found: list[dict], free) -> None:
    """The first end of a range takes the second's scale and unit: 'five or six minutes' 5 minute,
    ru 'от двух до пяти тысяч человек' 2000, '2-3 million euros' 2000000 EUR."""
    pattern = _range_pattern(language)
    for b in sorted(found, key=lambda q: q["start"]):
        if (
            b["unit"] in ("count", "ordinal", "fraction")
            and b["dimension"] == "count"
            and not _has_scale(text, b, language)
        ):
            continue  # nothing to share
        m = pattern.search(text, max(0, b["start"] - 40), b["start"])
        if m is None:
            continue
        a_start, a_end = m.span("a")
        if (n := _NUMBER.fullmatch(text, a_start, a_end)) is not None:
            value = parse_number(n.group(1), n.group(2), n.group(3), language)
        elif (spelled := _spelled_number(text, a_start, language)) is not None and spelled[1] == a_end:
            value = spelled[0]
        else:
            continue
        factor = _scale_of(text, b, language)
        if value <= 0 or (factor > 1 and value >= factor) or value == b["value"]:
            continue
        a = next((q for q in found if q["start"] == a_start), None)
        if a is not None and (a["dimension"] != "count" or a["value"] != value):
            continue  # the first end has a unit of its own
        if a is None and not free(a_start, a_end):
            continue
        if a is not None:
            found.remove(a)
        found.append(
            dict(
                start=a_start,
                end=a_end,
                value=round(value * factor, 6),
                unit=b["unit"],
                dimension=b["dimension"],
                counted=b["counted"],
            )
        )


def _scale_of(text: str, q: dict, language: str) -> float:
    """The scale word's factor inside a quantity's span ('пяти тысяч' 1000), 1 without one."""
    pieces = _number_pieces(language)
    factor = 1.0
    if pieces is None:
        return factor
    pattern, meaning = pieces
    for m in pattern.finditer(text, q["start"], q["end"]):
        w = meaning.get(" ".join(m.group(0).casefold().split()))
        if w is not None and w.kind == "scale":
            factor = w.value
    return factor


def _has_scale(text: str, q: dict, language: str) -> bool:
    return _scale_of(text, q, language) > 1


@cache
def _range_pattern(language: str) -> regex.Pattern:
    """A number, then what joins the ends of a range (a dash, or the language's range_joiner words),
    ending where the second end begins."""
    words = [w.surface for w in unit_words(language).get("range_joiner", [])]
    alts = "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))
    joiner = r"\s?[-–—]\s?" + (rf"|\s+(?:{alts})\s+" if alts else "")
    number = r"\d+(?:[.,]\d+)*|[\p{L}\p{M}]+"
    return regex.compile(rf"(?<![\p{{L}}\p{{M}}\d.,])(?P<a>{number})(?:{joiner})$", regex.IGNORECASE)


@cache
def _list_join_pattern(language: str) -> regex.Pattern:
    """What may stand between two numbers of one list: commas, and the language's 'and'."""
    ands = cues().filter(pl.col("kind") == "list_separator", pl.col("language").is_in([language, ANY_LANGUAGE]))
    alts = "|".join(regex.escape(c) for c in sorted(ands["cue"], key=len, reverse=True))
    return regex.compile(r"[\s,،、;]*" + (rf"(?:(?:{alts})\s*)?" if alts else ""), regex.IGNORECASE)


@cache
def _measure_before_pattern(language: str) -> regex.Pattern | None:
    """A measure_before word ending the text, with at most a short word after it (checked to be a
    function word): 'magnitude 7.6', 'magnitude of 7.6', zh '规模7.6', ja 'マグニチュードは、6.8'."""
    words = unit_words(language).get("measure_before", [])
    if not words:
        return None
    alts = [("" if unspaced(w.surface) else r"(?<![\p{L}\p{M}])") + regex.escape(w.surface) for w in words]
    # in Japanese a particle and a comma may stand between: 'マグニチュードは、6.8'
    return regex.compile(
        r"(?P<word>" + "|".join(alts) + r")(?:\s+(?P<fw>[\p{L}\p{M}]{1,4})|\p{Hiragana}[、,]?)?[\s:]*$",
        regex.IGNORECASE,
    )


def _measure_before(text: str, start: int, language: str) -> tuple[str, int] | None:
    """(unit, where the word starts) when a measure_before word ends just before the number at `start`."""
    pattern = _measure_before_pattern(language)
    if pattern is None:
        return None
    lo = max(0, start - 40)
    m = pattern.search(text, lo, start)
    if m is None or (m["fw"] is not None and m["fw"].casefold() not in function_words(language)):
        return None
    folded = m["word"].casefold()
    unit = next(w.unit for w in unit_words(language)["measure_before"] if w.surface.casefold() == folded)
    return unit, m.start("word")


@cache
def _duration_units(language: str) -> dict[str, str]:
    """Folded time-unit word -> unit: the calendar's (dateparser's) words, then units.csv `duration` rows."""
    from flows.lexicon import calendar

    units = dict(calendar.vocabulary(language).units)
    for w in unit_words(language).get("duration", []):
        units.setdefault(_fold(w.surface), w.unit)
    return units


def _fold(surface: str) -> str:
    return " ".join(surface.casefold().split()).strip(".")


@cache
def _duration_pattern(language: str) -> regex.Pattern | None:
    from flows.lexicon import calendar

    alternation = calendar.alternation(_duration_units(language))
    # '31 anni', '48小时', and the compounds '24-hour', '17-year-old', '51-jährige'
    return regex.compile(r"(?:\s?|-\s?)(?:" + alternation + ")", regex.IGNORECASE) if alternation else None


@cache
def _glued_duration_pattern(language: str) -> regex.Pattern | None:
    """A time unit glued onto a number word, ending the word: de 'drei|tägigen', 'fünf|jährige'."""
    units = [u for u in _duration_units(language) if len(u) >= 4 and not unspaced(u)]
    if not units:
        return None
    alts = "|".join(regex.escape(u) for u in sorted(units, key=len, reverse=True))
    return regex.compile(rf"(?:{alts})(?![\p{{L}}\p{{M}}])", regex.IGNORECASE)


def _glued_duration(text: str, pos: int, language: str) -> tuple[str, int] | None:
    pattern = _glued_duration_pattern(language)
    m = pattern.match(text, pos) if pattern is not None else None
    return None if m is None else (_duration_units(language)[_fold(m.group(0))], m.end())


def _duration(text: str, pos: int, language: str) -> tuple[str, int] | None:
    """A time unit right after a number ('31 anni', 'hai năm', '3 дня', '48小时', '24-hour'): (unit, end)."""
    pattern = _duration_pattern(language)
    m = pattern.match(text, pos) if pattern is not None else None
    if not m:
        return None
    word = m.group(0).lstrip(" -\u00a0\t\n")
    from flows.lexicon.calendar import nouns_capitalised

    if word[:1].isupper() and not nouns_capitalised(language):
        return None  # 'Il Sole 24 Ore' is a name, not 24 hours
    return _duration_units(language)[_fold(word)], m.end()


def _number_words(text: str, language: str, found: list[dict], free) -> None:
    """Spelled-out numbers that count something: 'two people', 'tres muertos', 'cinquemila morti',
    'vingt-cinq ans', 'elf Millionen Kronen', zh '三十五人', '二千'."""
    start_pattern = _number_start_pattern(language)
    if start_pattern is None:
        return
    pos = 0
    while (m := start_pattern.search(text, pos)) is not None:
        pos = m.end()
        if not free(m.start(), m.end()):
            continue
        parsed = _spelled_number(text, m.start(), language)
        if parsed is None:
            continue
        value, end = parsed
        if value == 1 or not free(m.start(), end):
            continue  # 'one', 'un', 'ein' are mostly articles
        pos = end
        if value < 1:
            found.append(
                dict(start=m.start(), end=end, value=value, unit="fraction", dimension="fraction", counted=None)
            )
            continue
        q = _quantity_after(text, m.start(), end, value, language, spelled=True)
        if q is not None and free(q["start"], q["end"]):
            found.append(q)


@cache
def _number_pieces(language: str) -> tuple[regex.Pattern, dict[str, Word]] | None:
    """Every number word and scale word of `language` (one pattern, no word bounds) and what each means."""
    words = unit_words(language).get("number_word", []) + unit_words(language).get("scale", [])
    words = [w for w in words if any(ch.isalpha() for ch in w.surface)]
    if not words:
        return None
    meaning: dict[str, Word] = {}
    for w in sorted(words, key=lambda w: (w.kind != "number_word", not w.own)):
        meaning.setdefault(" ".join(w.surface.casefold().split()), w)
    alts = [regex.escape(s).replace(r"\ ", r"\s+") for s in sorted(meaning, key=len, reverse=True)]
    return regex.compile("(?:" + "|".join(alts) + ")", regex.IGNORECASE), meaning


@cache
def _number_start_pattern(language: str) -> regex.Pattern | None:
    """Where a spelled number may begin: a number word at the start of a word (anywhere, in scripts
    without spaces; there a scale word alone is a number too: zh '千年', '万人')."""
    pieces = _number_pieces(language)
    if pieces is None:
        return None
    starts = [s for s, w in pieces[1].items() if w.kind == "number_word" or _runs_on(s[-1])]
    if not starts:
        return None
    alts = [("" if _runs_on(s[0]) else r"(?<![\p{L}\p{M}])") + regex.escape(s).replace(r"\ ", r"\s+") for s in starts]
    return regex.compile("(?:" + "|".join(sorted(alts, key=len, reverse=True)) + ")", regex.IGNORECASE)


def _spelled_number(text: str, start: int, language: str) -> tuple[float, int] | None:
    """(value, end) of the spelled number at `start`: pieces glued ('cinquemila', zh '三十五'), joined by a
    hyphen ('vingt-cinq') or a space ('twenty five', 'elf Millionen'), each smaller than the one before
    unless it multiplies ('two hundred', zh '二千'). None when the word goes on with other letters
    ('settembre' is no 'sette')."""
    pattern, meaning = _number_pieces(language)
    total, current, last, pos, end = 0.0, 0.0, None, start, None
    while True:
        m = pattern.match(text, pos)
        if m is None:
            break
        w = meaning.get(" ".join(m.group(0).casefold().split()))
        if w is None:
            break
        v = w.value
        if 0 < v < 1:  # a fraction word ends the number: ru 'четверть', it 'un quarto', 'three quarters'
            if last is not None and (last.kind == "scale" or total):
                break
            return (current or 1.0) * v, m.end()
        multiplies = w.kind == "scale" or (v in (10.0, 100.0, 1000.0) and 0 < current < v)
        if multiplies:
            if last is not None and last.kind == "scale" and v >= last.value:
                break  # 'million billion'
            base = current or (1.0 if last is None else 0.0)
            if base == 0:
                break
            if v >= 1000:
                total, current = total + base * v, 0.0
            else:
                current = base * v
        else:
            if last is not None and last.kind != "scale" and v >= _magnitude(last.value):
                break  # 'two three', 'five twenty': two numbers, not one
            current += v
        last, end = w, m.end()
        nxt = text[end : end + 1]
        if nxt == "-" or nxt in " \u00a0":
            pos = end + 1
        elif nxt and _LETTER.match(nxt) and not _runs_on(nxt):
            pos = end  # glued: the word must go on with another piece, or be a time unit: de 'dreitägigen'
            if pattern.match(text, pos) is None:
                if _glued_duration(text, end, language) is not None:
                    break
                return None
        else:
            pos = end
    if end is None:
        return None
    if not _runs_on(text[end - 1]) and _LETTER.match(text[end : end + 1]) and not _glued_duration(text, end, language):
        return None  # the last piece runs into other letters
    return total + current, end


def _runs_on(ch: str) -> bool:
    """A number word in this script may run into the next word: Han, kana, Thai (not Hangul: '세 명' is
    three people, '세계' the world)."""
    return unspaced(ch) and not "\uac00" <= ch <= "\ud7af"


def _magnitude(value: float) -> float:
    """10 for 20..90 ('twenty five' adds 5 < 10), the value itself otherwise."""
    return (
        10.0 if 10 < value < 100 and value % 10 == 0 else (100.0 if 100 < value < 1000 and value % 100 == 0 else value)
    )


def _ordinals(text: str, language: str, found: list[dict], free) -> None:
    fw = function_words(language)
    according = _according_words(language)
    pattern = _word_pattern(language, "ordinal")
    if pattern is not None:
        for m in _bounded(language, "ordinal").finditer(text):
            word = _match_word(text, m.start(), language, "ordinal")
            if word is None or not free(m.start(), word[1]):
                continue
            end = word[1]
            nxt = _NEXT_WORD.match(text, end)  # past an opening quote: ru 'четвертой «лунной державой»'.
            single = " " not in word[0].surface
            if single and (nxt is None or nxt.group(1).casefold() in fw):
                continue  # 'secondo il ...' is 'according to', not 'second'
            if single and m.group(0).casefold() in according and nxt and nxt.group(1)[:1].isupper():
                continue  # 'Secondo Reuters'
            found.append(
                dict(start=m.start(), end=end, value=word[0].value, unit="ordinal", dimension="ordinal", counted=None)
            )
    # an ordinal glued onto the next word: de 'fünftgrößte'
    stems = unit_words(language).get("ordinal_stem", [])
    if stems:
        for m in _ordinal_stem_pattern(language).finditer(text):
            w = next(w for w in stems if w.surface.casefold() == m.group(1).casefold())
            if free(m.start(), m.end()):
                found.append(
                    dict(start=m.start(), end=m.end(), value=w.value, unit="ordinal", dimension="ordinal", counted=None)
                )


@cache
def _ordinal_stem_pattern(language: str) -> regex.Pattern:
    alts = "|".join(regex.escape(w.surface) for w in unit_words(language)["ordinal_stem"])
    return regex.compile(rf"(?<![\p{{L}}\p{{M}}])({alts})(?=\p{{Ll}}{{3,}})", regex.IGNORECASE)


@cache
def _bounded(language: str, kind: str) -> regex.Pattern | None:
    """The `kind` words of `language` at the start of a word."""
    pattern = _word_pattern(language, kind)
    return None if pattern is None else regex.compile(r"(?<![\p{L}\p{M}])" + pattern.pattern, regex.IGNORECASE)


def _suffix_ordinals(text: str, language: str, found: list[dict], free) -> None:
    suffixes = unit_words(language).get("ordinal_suffix", [])
    if suffixes:
        for m in _ordinal_suffix_pattern(language).finditer(text):
            if free(m.start(), m.end()):
                found.append(
                    dict(
                        start=m.start(),
                        end=m.end(),
                        value=float(m.group(1)),
                        unit="ordinal",
                        dimension="ordinal",
                        counted=None,
                    )
                )


@cache
def _ordinal_suffix_pattern(language: str) -> regex.Pattern:
    """Digits followed by an ordinal ending of the language: en 21st, 3rd, 5th-largest, ja 4カ国目."""
    ends = "|".join(
        regex.escape(w.surface) + ("" if unspaced(w.surface) else r"(?![\p{L}\p{M}])")  # ja '4カ国目の'
        for w in unit_words(language)["ordinal_suffix"]
    )
    return regex.compile(rf"(?<![\p{{Lu}}\p{{Ll}}\p{{Lt}}\d])(\d{{1,3}})(?:{ends})", regex.IGNORECASE)


def extract_quantities(articles: pl.DataFrame, sentences: pl.DataFrame, dates: pl.DataFrame) -> pl.DataFrame:
    languages = dict(articles.select("article_id", "language").iter_rows())
    masks: dict[str, list[tuple[int, int]]] = {}
    for sid, a, z in dates.select("sentence_id", "start_char", "end_char").iter_rows():
        masks.setdefault(sid, []).append((a, z))
    rows = []
    for s in sentences.filter(pl.col("kind") != "other").iter_rows(named=True):
        language = languages[s["article_id"]]
        words = [p for p in (_word_pattern(language, "ordinal"), _number_start_pattern(language)) if p is not None]
        if not _DIGIT.search(s["text"]) and not any(p.search(s["text"]) for p in words):
            continue  # pre-filter: no digit, no ordinal or number word
        base = s["start_char"]
        masked = [(a - base, z - base) for a, z in masks.get(s["sentence_id"], [])]
        masked += [(h.start, h.end) for h in find_outlets(s["text"])]  # 'Il Sole 24 Ore', 'TVN24' are names
        for n, q in enumerate(extract_sentence(s["text"], language, masked)):
            rows.append(
                {
                    "quantity_id": f"{s['sentence_id']}-q{n}",
                    "article_id": s["article_id"],
                    "sentence_id": s["sentence_id"],
                    "surface": s["text"][q["start"] : q["end"]],
                    "value": q["value"],
                    "unit": q["unit"],
                    "dimension": q["dimension"],
                    "counted": q["counted"],
                    "start_char": base + q["start"],
                    "end_char": base + q["end"],
                }
            )
    return pl.DataFrame(rows, schema=QUANTITY_SCHEMA)
