"""Split articles into blocks and sentences with character offsets, and classify each sentence's kind.

Kinds: headline, subheading, body, caption (photo credits), source_line ("Source: ...", "(Theo FT)"),
teaser (links to other stories after the body), other (inline metadata, stray symbols).
Cue words come from seeds/languages/<code>/cues.csv; layout rules (short lone blocks, what follows a closing
source line) carry the rest, so an article in a language with no lexicon is still segmented.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import blingfire
import polars as pl
import regex

from flows.config import setting
from flows.lexicon.calendar import month_number
from flows.lexicon.names import function_words as language_function_words
from flows.lexicon.reference import find_cues

SENTENCE_SCHEMA = {
    "sentence_id": pl.String,
    "article_id": pl.String,
    "paragraph": pl.Int32,
    "position": pl.Int32,
    "kind": pl.String,
    "text": pl.String,
    "start_char": pl.Int32,
    "end_char": pl.Int32,
}

_TERMINAL = tuple(".!?…。！？")
# a block ending with one of these is prose, not a heading: Latin full stops and the full-width CJK forms
# ('。' is the full stop of Chinese and Japanese; a question mark may end a heading: "Dane … rządu?")
_FULL_STOPS = tuple(".!…:;,。．！：；，、")
_CLOSING_QUOTES = "\"”»’' 」』〉》"
# quotation marks and brackets that close after a sentence's full stop ('「…遺體。」'): they belong to it
_CLOSERS = "」』”’»\"'）)】〉》"
_OPENERS = "「『“‘«\"'（(【〈《"
# characters of scripts written without spaces (Han, kana, Thai, Lao, Khmer, Myanmar): no spaces to count
# words by, so their length counts as words at _CHARS_PER_WORD characters each (Korean is written with spaces)
_UNSPACED_CHAR = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}ー]")
_CHARS_PER_WORD = 3
# "TimesThe": a lower-case letter glued to a capitalised word (scraped headings and links lose their space),
# in every script that has case (Latin, Greek, Cyrillic, Armenian, ...).
_GLUE = regex.compile(r"(?<=\p{Ll}\p{Ll})(?=\p{Lu}\p{Ll}{2,}\b)")
_LIST_SEP = re.compile(r"\s+[/|·•]\s+")
_TWO_LETTERS = re.compile(r"[^\W\d_][\s\S]*?[^\W\d_]")


@dataclass
class Span:
    start: int
    end: int
    block: int


def sentence_id(article_id: str, position: int) -> str:
    return f"{article_id}-s{position:04d}"


def _blocks(text: str, body_start: int) -> list[tuple[int, int]]:
    """Non-empty lines as (start, end), trimmed; a block is the unit scraped layouts keep."""
    blocks = []
    if body_start > 0:
        blocks.append((0, body_start))
    pos = body_start
    for line in text[body_start:].split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            blocks.append((start, end))
    return blocks


def _unglue(text: str, start: int, end: int, function_words: frozenset[str]) -> list[tuple[int, int]]:
    """Split a sentence where a glued capitalised function word starts a new sentence ("TimesThe")."""
    cuts = []
    for m in _GLUE.finditer(text, start, end):
        word = re.match(r"\w+", text[m.start() : end])
        if word and word.group(0).casefold() in function_words:
            cuts.append(m.start())
    bounds = [start, *cuts, end]
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _sentence_bounds(text: str, start: int, language: str) -> list[int]:
    """Sentence end offsets for text[start:], from one blingfire call per article.

    blingfire's own offset helper walks the text in Python; its sentence splitter is C. The
    sentences it returns keep their words, so each is found again in the text by its words.
    """
    bounds, pos = [], start
    cut_dates = _ordinal_day_cuts(text, start, language)
    for sentence in blingfire.text_to_sentences(text[start:]).split("\n"):
        words = sentence.split()
        if not words:
            continue
        first = text.find(words[0], pos)
        if first < 0:
            continue
        end = first
        for word in words:
            found = text.find(word, end)
            if found < 0:
                break
            end = found + len(word)
        if end not in cut_dates:
            bounds.append(end)
        pos = end
    return _past_closing_quotes(text, bounds)


_ORDINAL_DAY = regex.compile(r"(?<![\d.,])(\d{1,2}\.)\s+(\p{L}+)")


def _ordinal_day_cuts(text: str, start: int, language: str) -> set[int]:
    """Ends of 'am 14.' where a month name follows ('am 14. Juli', 'den 3. maj'): a day written as an
    ordinal, not a sentence end; blingfire cuts there before a capitalised word."""
    return {m.end(1) for m in _ORDINAL_DAY.finditer(text, start) if month_number(m.group(2), language)}


def _past_closing_quotes(text: str, bounds: list[int]) -> list[int]:
    """A quotation mark closing right after a full stop ends the sentence with it: blingfire cuts '…遺體。」'
    before '」'. Where the text then goes on glued to it ('「…。」他說。', '「…。」と述べた'), the quotation
    and its speech tag are one sentence: no cut there."""
    out = []
    for b in bounds:
        j = b
        while j < len(text) and text[j] in _CLOSERS and text[b - 1 : b] in _TERMINAL:
            j += 1
        if j > b and j < len(text) and not text[j].isspace() and text[j] not in _OPENERS:
            continue  # the sentence goes on after the quotation
        out.append(j)
    return out


def _split_block(
    text: str, start: int, end: int, language: str, function_words, bounds: list[int]
) -> list[tuple[int, int]]:
    cuts = [b for b in bounds[bisect.bisect_right(bounds, start) : bisect.bisect_left(bounds, end)]]
    edges = [start, *cuts, end]
    spans = [(a, z) for a, z in zip(edges, edges[1:]) if text[a:z].strip()] or [(start, end)]
    out = []
    for a, b in spans:
        # A caption glued to a source line ("Źródło: PAP / Zdjęcie: unsplash") is its own sentence.
        for m in _LIST_SEP.finditer(text, a, b):
            if find_cues(text[m.end() : b], language, "caption"):
                out.extend(_unglue(text, a, m.start(), function_words))
                a = m.end()
                break
        out.extend(_unglue(text, a, b, function_words))
    return out


def _cap(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """A span longer than `limit` characters, cut into pieces of at most `limit`, at the last space (else
    anywhere). No real sentence is that long; a run-on text without full stops would make every later step
    work on one huge "sentence" (mention matching grows with the square of its length)."""
    out = []
    while end - start > limit:
        cut = text.rfind(" ", start + limit // 2, start + limit)
        cut = cut if cut > start else start + limit
        out.append((start, cut))
        start = cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append((start, end))
    return out


def _words(s: str) -> int:
    """Words in `s`; a run of characters in a script written without spaces counts one word per
    _CHARS_PER_WORD characters ('事故を受けてメリーランド州のムーア知事は非常事態を宣言した。' is no 1-word heading)."""
    unspaced = len(_UNSPACED_CHAR.findall(s))
    if not unspaced:
        return len(s.split())
    rest = [w for w in _UNSPACED_CHAR.sub(" ", s).split() if any(ch.isalnum() for ch in w)]
    return len(rest) + -(-unspaced // _CHARS_PER_WORD)


def _starts_with_cue(s: str, language: str, kind: str, within: int = 0) -> bool:
    """A `kind` cue starting in the first `within` characters (only the head of `s` is searched)."""
    return any(a <= within for a, _, _ in find_cues(s[: within + 40], language, kind))


def _is_source_line(s: str, language: str) -> bool:
    """'Source: X', 'Källor: X och Y', '(Theo FT)': a label then a few names, nothing else."""
    inner = s.strip()
    if len(inner.split()) > 18 or len(inner) > 200:
        return False  # a label and at most 15 names: longer text is body
    wrapped = inner[:1] in "(（[【" and inner[-1:] in ")）]】"
    if wrapped:
        inner = inner[1:-1].strip()
    hits = find_cues(inner, language, "source_label")
    if not hits or hits[0][0] != 0:
        return False
    label_end = hits[0][1]
    has_colon = inner[label_end : label_end + 2].lstrip()[:1] in (":", "：") or inner[:label_end].endswith((":", "："))
    rest = inner[label_end:].lstrip(" :：")
    return bool(rest) and (has_colon or wrapped) and _words(rest) <= 15


def _classify_blocks(text, blocks, sentences, body_start, language) -> list[str]:
    """A kind per sentence, from cue words and the article's layout."""
    kinds = ["body"] * len(sentences)
    by_block: dict[int, list[int]] = {}
    for i, sp in enumerate(sentences):
        by_block.setdefault(sp.block, []).append(i)
    body_blocks = [b for b, (s, e) in enumerate(blocks) if s >= body_start]
    first_body_block = body_blocks[0] if body_blocks else None
    body_chars = sum(e - s for s, e in blocks if s >= body_start) or 1

    closing_source_block = None
    seen_chars = 0
    for b in body_blocks:
        s, e = blocks[b]
        seen_chars += e - s
        idx = by_block.get(b, [])
        if len(idx) == 1 and _is_source_line(text[s:e], language) and seen_chars >= body_chars / 2:
            if b != body_blocks[-1]:
                closing_source_block = b
                break

    # does each sentence open with a photo-credit cue ("Foto:", "©")? asked once per sentence
    caption_cue = [_starts_with_cue(text[sp.start : sp.end], language, "caption", 2) for sp in sentences]
    for b, idx in by_block.items():
        s, e = blocks[b]
        block_text = text[s:e]
        if s < body_start:
            for i in idx:
                kinds[i] = "other"
            continue
        if not _TWO_LETTERS.search(block_text):
            for i in idx:
                kinds[i] = "other"
            continue
        if closing_source_block is not None and b > closing_source_block:
            for i in idx:
                kinds[i] = "teaser"
            continue
        caption_block = any(caption_cue[i] for i in idx)
        if caption_block and _words(block_text) <= 40:
            # a photo description and its credit; a source line sharing the block keeps its own kind
            for i in idx:
                sent = text[sentences[i].start : sentences[i].end]
                kinds[i] = "source_line" if _is_source_line(sent, language) else "caption"
            continue
        single = len(idx) == 1
        no_full_stop = not block_text.rstrip(_CLOSING_QUOTES).endswith(_FULL_STOPS)
        if (
            single
            and b == first_body_block
            and no_full_stop
            and _words(block_text) <= setting("segment", "headline_max_words")
        ):
            kinds[idx[0]] = "headline"
            continue
        if single and _is_source_line(block_text, language):
            kinds[idx[0]] = "source_line"
            continue
        if single and _starts_with_cue(block_text, language, "teaser"):
            kinds[idx[0]] = "teaser"
            continue
        if (
            single
            and no_full_stop
            and b != body_blocks[-1]
            and _words(block_text) <= setting("segment", "subheading_max_words")
        ):
            kinds[idx[0]] = "subheading"
            continue
        for i in idx:
            sent = text[sentences[i].start : sentences[i].end]
            if caption_cue[i]:
                kinds[i] = "caption"
            elif _is_source_line(sent, language):
                kinds[i] = "source_line"
            elif not _TWO_LETTERS.search(sent):
                kinds[i] = "other"
    return kinds


def segment_article(article_id: str, text: str, body_start: int, language: str) -> list[dict]:
    """Sentences of one article, in order, with offsets into `text` and a kind."""
    function_words = language_function_words(language)
    blocks = _blocks(text, body_start)
    bounds = _sentence_bounds(text, body_start, language)
    spans: list[Span] = []
    for b, (s, e) in enumerate(blocks):
        if s < body_start:
            spans.append(Span(s, e, b))
            continue
        spans.extend(Span(a, z, b) for a, z in _split_block(text, s, e, language, function_words, bounds))
    # trim whitespace inside every span so text == substring(article, start, end)
    trimmed = []
    for sp in spans:
        a, z = sp.start, sp.end
        while a < z and text[a].isspace():
            a += 1
        while z > a and text[z - 1].isspace():
            z -= 1
        if z > a:
            trimmed.extend(Span(x, y, sp.block) for x, y in _cap(text, a, z, setting("segment", "max_sentence_chars")))
    kinds = _classify_blocks(text, blocks, trimmed, body_start, language)
    return [
        {
            "sentence_id": sentence_id(article_id, pos),
            "article_id": article_id,
            "paragraph": sp.block,
            "position": pos,
            "kind": kind,
            "text": text[sp.start : sp.end],
            "start_char": sp.start,
            "end_char": sp.end,
        }
        for pos, (sp, kind) in enumerate(zip(trimmed, kinds))
    ]


def segment(articles: pl.DataFrame) -> pl.DataFrame:
    """Sentences for a batch of articles (needs columns article_id, text, body_start, language)."""
    rows = []
    for art in articles.select("article_id", "text", "body_start", "language").iter_rows(named=True):
        rows.extend(segment_article(art["article_id"], art["text"], art["body_start"], art["language"]))
    return pl.DataFrame(rows, schema=SENTENCE_SCHEMA)
