"""Reference data from seeds/: per-language lexicons and the outlet gazetteer, loaded once per process.

Each language has a folder seeds/languages/<ISO 639 code>/ (`mul` holds what every language shares):
  cues.csv   kind,cue,position      attribution, caption, teaser, claim and name cues (CUE_KINDS)
  dates.csv  kind,word,position     words that make or anchor a date (DATE_KINDS)
  units.csv  surface,kind,unit,value  scale and number words, units, currencies, ordinals (UNIT_KINDS)
Adding a language or an outlet is adding rows to these files, never code. tests/test_lexicons.py checks
every file against the kinds and positions declared here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl
import regex

from flows.config import SEEDS_DIR

ANY_LANGUAGE = "*"
LANGUAGES_DIR = SEEDS_DIR / "languages"
SHARED = "mul"  # ISO 639-2 "multiple languages": the folder of rows every language uses

# kind -> (positions allowed, what it is). `position` says where the source (or the thing the cue
# governs) sits relative to the cue: before | after | either.
CUE_KINDS = {
    "source_label": ({"after"}, "opens a source line: 'Source:', 'Källor:', 'Theo'"),
    "caption": ({"after", "either"}, "marks a photo credit or caption: 'Photo:', '©'"),
    "teaser": ({"after"}, "opens a link to another story: 'Read also', 'Xem thêm'"),
    "according_to": ({"before", "after"}, "'according to X', 'secondo X', 'X zufolge' (before)"),
    "reporting_verb": ({"before", "after", "either"}, "'said', 'ha detto', 'заявил', '表示': the speaker's side"),
    "speculation": ({"either"}, "hedges that make a sentence no claim: 'might', 'potrebbe'"),
    "list_separator": ({"either"}, "'and' in a list of sources: 'och', 'i', 'và'"),
    "complementizer": ({"either"}, "'that' after a reporting verb: 'che', 'że', 'rằng'"),
    "contrast": ({"either"}, "a connective between two statements in one sentence: 'but', 'while', 'mentre'"),
    "name_connector": ({"either"}, "lower-case words inside names: 'de', 'van', 'della'"),
    "not_cue": ({"either"}, "a phrase that hides a false cue: vi 'theo dõi' (to monitor)"),
    "demonym_suffix": ({"either"}, "endings that turn a country's name into its adjective: '-ese', '-isk'"),
    "org_word": ({"either"}, "words that make a name an organisation: 'ministry', 'Agentur', 'bank'"),
    "descriptor_per": ({"either"}, "nouns that describe a person already named: 'the minister', 'il docente'"),
    "descriptor_org": ({"either"}, "nouns that describe an organisation already named: 'the company', 'l'azienda'"),
    "descriptor_loc": ({"either"}, "nouns that describe a place already named: 'the city', 'la capitale'"),
    "document": ({"either"}, "a statement or report that speaks for who issued it: uk 'повідомленні', 'the statement'"),
    "agent": ({"either"}, "nouns for people who speak as a group or a role, named by no one: 'officials', 'rescuers'"),
    "continuation": ({"either"}, "opens a sentence that goes on with the previous speaker: 'He added', 'Inoltre ha'"),
    "refers_back": ({"after"}, "opens a sentence that names the source of the one before: uk 'Про це', it 'Lo ha'"),
    "hearsay": ({"either"}, "ends a sentence that passes on what the previous source said: ja 'ということです'"),
    "proclitic": ({"either"}, "a letter written onto the next word, before a cue: ar 'و' (and), he 'ו'"),
    "subject_marker": ({"before"}, "a particle closing the subject at a sentence's head: ja 'は', 'が'; ko '은', '가'"),
    "not_subject": ({"either", "after"}, "a particle no subject holds (either) or opens with (after): ja 'を', 'の'"),
    "speech_setting": ({"either"}, "opens where or to whom a speaker speaks, before the verb: zh '在' (在X平台上表示)"),
}
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DATE_KINDS = {
    "date_label": ({"after"}, "labels a publication date before it: 'date', 'Datum:'"),
    "date_ago": ({"before", "after"}, "'X years ago': where the number sits ('five years ago' -> before)"),
    "date_last": ({"either"}, "'last' before a month: 'last July', 'lo scorso luglio' (the latest such month)"),
    "month_in": ({"either"}, "a word before a month that says when: 'in', 'im', 'в', 'nel', ar 'في' (the nearest)"),
    "date_last_year": ({"either"}, "'last year', 'l'anno scorso', 'năm ngoái'"),
    "year_word": ({"either"}, "the word for year(s) after a number: 'years', 'anni', 'lat'"),
    "month_connector": ({"either"}, "a word between day, month and year: 'of', 'de', 'del'"),
    "month_prefix": ({"either"}, "a word before a month number: vi 'tháng'"),
    "date_forward": ({"either"}, "a word before a date that looks ahead: 'until', 'bis', 'jusqu'au', 'до'"),
    "year_marker": ({"either"}, "written after a year's number: zh/ja '年', ko '년'"),
    "month_marker": ({"either"}, "written after a month's number: zh/ja '月', ko '월'"),
    "day_marker": ({"either"}, "written after a day's number: zh/ja '日', '号', ko '일'"),
    "day_span": ({"after"}, "after 'N<day marker>', makes it a span or an offset, not a day of the month: ja '間'"),
    # relative words CLDR and dateparser lack (their forms come first): the day or year of publication
    "date_today": ({"either"}, "the day of publication: 'tonight', 'ce soir', 'heute Abend', zh '今日'"),
    "date_yesterday": ({"either"}, "the day before publication: 'last night', 'hier soir', ro 'aseară'"),
    "date_tomorrow": ({"either"}, "the day after publication: 'tomorrow night', 'demain soir'"),
    "date_this_year": ({"either"}, "the year of publication: 'in diesem Jahr', ar 'هذا العام'"),
    # forms of a month's or a weekday's name that CLDR and dateparser lack (dateparser's own keys)
    **{m: ({"either"}, f"a form of {m.title()}: ru 'июне' (in June), ar Maghreb 'دجنبر'") for m in MONTHS},
    **{d: ({"either"}, f"a form of {d.title()}: de 'Dienstagmorgen'") for d in WEEKDAYS},
}
UNIT_KINDS = {
    "percent": "percent words: 'per cent', 'Prozent'",
    "scale": "scale words with their factor: 'million' 1000000",
    "currency": "currency names or symbols with their ISO 4217 code as unit",
    "area": "area units (unit m2, km2, ha)",
    "mass": "mass units (t, kg)",
    "length": "length units (km, m)",
    "number_word": "spelled-out numbers with their value: 'five' 5; a fraction below 1: ru 'четверть' 0.25",
    "ordinal": "ordinal words with their value: 'fifth' 5",
    "ordinal_suffix": "what follows digits in an ordinal: en 'th' (unit ordinal, no value)",
    "ordinal_stem": "an ordinal written glued onto the next word, with its value: de 'fünft' (fünftgrößte) 5",
    "measure": "a scale written after a number that measures what it names (unit magnitude, °C): 'Richter', '°C'",
    "measure_before": "a word before a number that makes it that measure (unit magnitude): 'magnitude', zh '规模'",
    "duration": "a time unit the calendar data lacks (unit year..second): 'minutes', ar 'عاما', de 'jährige'",
    "clock_before": "a word before a number that makes it a time of day, no quantity: ja '午後', ko '오후'",
    "clock_after": "a word after a number that makes it an hour of the day, no quantity: zh '時', ko '시'",
    "range_joiner": "a word between the ends of a range (the first takes the second's unit): 'to', 'or', ru 'до'",
    "serial": "a word after a number that makes it a name in a series, no quantity: zh '号', ko '호'",
}


def _language_files(name: str) -> list[tuple[str, object]]:
    """(language, path) of every seeds/languages/<code>/<name>; `mul` reads as every language ('*')."""
    out = []
    for path in sorted(LANGUAGES_DIR.glob(f"*/{name}")):
        code = path.parent.name
        out.append((ANY_LANGUAGE if code == SHARED else code, path))
    return out


@cache
def cues() -> pl.DataFrame:
    """Every cue and date word of every language: one row per (language, kind, cue, position)."""
    frames = []
    for name, column in (("cues.csv", "cue"), ("dates.csv", "word")):
        for language, path in _language_files(name):
            df = pl.read_csv(path, schema_overrides={column: pl.String, "position": pl.String})
            frames.append(
                df.rename({column: "cue"}).select(pl.lit(language).alias("language"), "kind", "cue", "position")
            )
    return (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"language": pl.String, "kind": pl.String, "cue": pl.String, "position": pl.String})
    )


@cache
def unit_rows() -> pl.DataFrame:
    """Every units.csv row: (language, surface, kind, unit, value)."""
    frames = [
        pl.read_csv(path, schema_overrides={"surface": pl.String, "unit": pl.String, "value": pl.Float64}).select(
            pl.lit(language).alias("language"), "surface", "kind", "unit", "value"
        )
        for language, path in _language_files("units.csv")
    ]
    return pl.concat(frames)


@cache
def lexicon_languages() -> frozenset[str]:
    """Languages with attribution cues of their own (the others are flagged `no_lexicon`)."""
    df = cues().filter(pl.col("kind").is_in(["reporting_verb", "according_to"]))
    return frozenset(df["language"].unique().to_list()) - {ANY_LANGUAGE}


@dataclass(frozen=True)
class Cue:
    text: str
    kind: str
    position: str  # where the source sits relative to the cue: before | after | either
    language: str


# Word boundaries that know vowel signs (Devanagari, Bengali, Thai) are part of a word: Python's \w does not.
NOT_AFTER_LETTER = r"(?<![\p{L}\p{M}\p{N}_])"
NOT_BEFORE_LETTER = r"(?![\p{L}\p{M}\p{N}_])"
# Scripts written without spaces between words: a cue there may sit anywhere in a run of letters.
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def unspaced(text: str) -> bool:
    """True when `text` is in a script written without spaces between words (Han, kana, Thai, ...).

    Korean (Hangul) is written with spaces but attaches particles to words, so it is treated alike."""
    return bool(_UNSPACED.search(text))


def _boundary_pattern(phrases: list[str], proclitics: tuple[str, ...] = ()) -> str:
    """Alternation of phrases, longest first, bounded so 'sa' never matches inside 'säger'.

    Word-bounded phrases share one pair of look-arounds (one alternation, not one per phrase: fast).
    Phrases in unspaced scripts are not bounded; `proclitics` may be glued before a phrase (ar 'وقال').
    """
    words, others = [], []
    for p in sorted(set(phrases), key=len, reverse=True):
        esc = regex.escape(p).replace(r"\ ", r"\s+")
        if unspaced(p):
            others.append(esc)
        elif _letter(p[:1]) and _letter(p[-1:]):
            words.append(esc)
        else:
            left = NOT_AFTER_LETTER if _letter(p[:1]) else ""
            right = NOT_BEFORE_LETTER if _letter(p[-1:]) else ""
            others.append(left + esc + right)
    parts = others[:]
    if words:
        left = NOT_AFTER_LETTER
        if proclitics:
            glued = "|".join(rf"(?<=(?<![\p{{L}}\p{{M}}\p{{N}}_]){regex.escape(c)})" for c in proclitics if len(c) == 1)
            left = rf"(?:{NOT_AFTER_LETTER}|{glued})" if glued else left
        parts.append(left + r"(?:" + "|".join(words) + r")" + NOT_BEFORE_LETTER)
    return "|".join(parts)


def _letter(ch: str) -> bool:
    return bool(ch) and (ch.isalnum() or unicodedata.category(ch).startswith("M"))


@cache
def proclitics(language: str) -> tuple[str, ...]:
    df = cues().filter(pl.col("kind") == "proclitic", pl.col("language") == language)
    return tuple(df["cue"].to_list())


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
    return regex.compile(_boundary_pattern(list(df["cue"]), proclitics(language)), regex.IGNORECASE), table


class _CaseClasses(dict):
    """A str.translate table: each character -> one member of its class under `regex`'s IGNORECASE (the
    characters it matches case-insensitively, closed transitively: İ, I, i and ı are one class). A cue
    can match case-insensitively only where its translated form occurs in the translated text."""

    def __missing__(self, code: int) -> int:
        from regex._regex import get_all_cases  # the very table IGNORECASE matching uses

        seen, todo = {code}, [code]
        while todo:
            for other in get_all_cases(regex.IGNORECASE, todo.pop()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        representative = min(seen)
        for member in seen:
            self[member] = representative
        return representative


_CASE_CLASSES = _CaseClasses()


@lru_cache(maxsize=64)  # small: one sentence is asked about several kinds in a row, not the corpus again
def _case_key(text: str) -> str:
    """`text` with each character replaced by its case class's representative. ASCII letters' classes are
    {a, A}..{z, Z} plus non-ASCII members (K for k, ſ for s, İ and ı for i), so their representative, the
    lowest code, is the ASCII capital: upper() says the same, faster."""
    return text.upper() if text.isascii() else text.translate(_CASE_CLASSES)


@cache
def _cue_words(language: str, kind: str):
    """An Aho-Corasick automaton of the case keys of the longest word of each `kind` cue (find_cues's
    pre-check); None when some cue has no word to look for."""
    import ahocorasick

    df = cues().filter(pl.col("kind") == kind, pl.col("language").is_in([language, ANY_LANGUAGE]))
    needles = {_case_key(max(cue.split(), key=len, default="")) for cue in df["cue"]}
    if not needles or "" in needles:
        return None
    automaton = ahocorasick.Automaton()
    for needle in needles:
        automaton.add_word(needle, None)
    automaton.make_automaton()
    return automaton


def _may_hold(text: str, language: str, kind: str) -> bool:
    """False when no `kind` cue can occur in `text` (the common case): none's longest word occurs in it,
    case-insensitively as the cue regex matches. True may be a word inside a longer word, or half a cue."""
    automaton = _cue_words(language, kind)
    return automaton is None or next(automaton.iter(_case_key(text)), None) is not None


def find_cues(text: str, language: str, kind: str) -> list[tuple[int, int, Cue]]:
    """Every occurrence of a `kind` cue in `text`: (start, end, cue).

    Phrases listed as `not_cue` hide the cues inside them ('theo dõi' is 'to monitor', not 'according to').
    """
    if not _may_hold(text, language, kind):
        return []  # no word of any such cue in the text: the regex could not match
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
        regex.compile(_boundary_pattern(exact)),
        regex.compile(_boundary_pattern(loose), regex.IGNORECASE),
        index,
    )


@dataclass(frozen=True)
class OutletHit:
    start: int
    end: int
    surface: str
    name: str
    kind: str


@cache
def _outlet_automata():
    """Aho-Corasick automata over the aliases (one alternation regex of 1,200 aliases cost ~1 ms a sentence):
    the multi-word ones casefolded, the one-word ones as written (see `_is_case_sensitive`)."""
    import ahocorasick

    automata = []
    for sensitive in (False, True):
        automaton = ahocorasick.Automaton()
        for row in outlets().iter_rows(named=True):
            alias = " ".join(row["alias"].split())
            if _is_case_sensitive(alias) == sensitive:
                key = alias if sensitive else alias.casefold()
                automaton.add_word(key, (len(key), row["name"], row["kind"], not unspaced(alias)))
        automaton.make_automaton()
        automata.append(automaton)
    return automata


_WHITESPACE = {i: " " for i in range(0x3001) if chr(i).isspace()}  # what regex matches as \s, one for one


def _word_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LMN"


def find_outlets(text: str) -> list[OutletHit]:
    """Known outlets and agencies named in `text`, leftmost-longest, without overlaps; an alias that starts
    or ends with a letter does not match inside a word (not in scripts written without spaces)."""
    spaced = text.translate(_WHITESPACE)
    folded = spaced.casefold()
    if "  " in spaced or len(folded) != len(text):  # a run of spaces, or a letter that folds to two
        return _find_outlets_regex(text)
    hits = []
    for haystack, automaton in zip((folded, spaced), _outlet_automata()):
        for last, (length, name, kind, bounded) in automaton.iter(haystack):
            start, end = last - length + 1, last + 1
            if bounded and (
                (start > 0 and _word_char(text[start - 1]) and _word_char(text[start]))
                or (end < len(text) and _word_char(text[end]) and _word_char(text[end - 1]))
            ):
                continue
            hits.append(OutletHit(start, end, text[start:end], name, kind))
    return _leftmost_longest(hits)


def _find_outlets_regex(text: str) -> list[OutletHit]:
    exact, loose, index = outlet_matchers()
    hits = []
    for pattern in (loose, exact):
        for m in pattern.finditer(text):
            name, kind = index[re.sub(r"\s+", " ", m.group(0)).casefold()]
            hits.append(OutletHit(m.start(), m.end(), m.group(0), name, kind))
    return _leftmost_longest(hits)


def _leftmost_longest(hits: list[OutletHit]) -> list[OutletHit]:
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
