"""Named-entity mentions per article (a pure step over batches); flows/link/entities.py resolves them
into one entity per real-world thing across the corpus.

Mentions come from, in order: known names (flows/gazetteer.py, tried on n-grams and on lemmas, so
'Belgii' finds Belgia), demonyms ('belgijskim' -> Belgium), capitalised name spans, acronyms, and the
speakers claims are attributed to. Each mention carries a candidate key; resolution unions keys that
the corpus shows are one thing — an acronym defined in parentheses ("... Service (VSSE)"), the same
name in several articles or languages, a surname after the full name, an inflected form of a name
seen elsewhere — and names the entity after its known (gazetteer) name or its commonest surface.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

import polars as pl

from flows.config import setting
from flows.lexicon import gazetteer, lemmas
from flows.lexicon.gazetteer import fold, norm
from flows.lexicon.names import descriptor_type, function_words, name_spans, resolve_outlet, tokens
from flows.lexicon.reference import cues

MENTION_SCHEMA = {
    "mention_id": pl.String,
    "article_id": pl.String,
    "sentence_id": pl.String,
    "entity_key": pl.String,
    "entity_id": pl.String,
    "surface": pl.String,
    "start_char": pl.Int32,
    "end_char": pl.Int32,
    "how": pl.String,
    "type_hint": pl.String,
    "language": pl.String,
}
EDGE_SCHEMA = {"article_id": pl.String, "key_a": pl.String, "key_b": pl.String, "reason": pl.String}
MAX_NGRAM = 5
_ACRONYM = re.compile(r"\(\s*([A-Z][A-Za-z0-9&]{1,9})\s*\)")
SKIP_KINDS = ("other",)


def _is_acronym(word: str) -> bool:
    return 2 <= len(word) <= 10 and sum(c.isupper() for c in word) >= 2 and word[0].isupper() and not word.istitle()


_lemma = lemmas.lemma


@lru_cache(maxsize=256)
def _org_words(language: str) -> re.Pattern:
    words = sorted(gazetteer.org_words(language), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, words)) + r")(?!\w)")


def _type_hint(surface: str, language: str) -> str:
    words = surface.split()
    if _org_words(language).search(fold(surface)) or _is_acronym(surface):
        return "ORG"
    if len(words) == 1 and re.search(r"[a-z][A-Z]", surface):  # AliExpress, eWtp
        return "ORG"
    if 2 <= len(words) <= 4 and all(w[:1].isupper() and w[1:].islower() for w in words if len(w) > 3):
        return "PER"
    return "MISC"


def name_key(surface: str) -> str:
    return "NAME:" + fold(surface)


class _ArticleMentions:
    """Collects one article's mentions and edges."""

    def __init__(self, article_id: str, language: str, text: str):
        self.article_id, self.language = article_id, language
        self.rows: list[dict] = []
        self.edges: list[dict] = []
        self.added = 0  # numbers mention ids: rows can be dropped again, an id is never reused
        # words this article writes in lower case: a capitalised one at a sentence start is no name
        self.lower_words = {w for w in re.findall(r"\w+", text) if w.islower()}

    def add(self, sid: str, base: int, start: int, end: int, surface: str, key: str, how: str, hint: str):
        self.added += 1
        self.rows.append(
            {
                "mention_id": f"{sid}-m{self.added - 1:03d}",
                "article_id": self.article_id,
                "sentence_id": sid,
                "entity_key": key,
                "entity_id": None,
                "surface": surface,
                "start_char": base + start,
                "end_char": base + end,
                "how": how,
                "type_hint": hint,
                "language": self.language,
            }
        )

    def edge(self, a: str, b: str, reason: str):
        if a != b:
            self.edges.append({"article_id": self.article_id, "key_a": a, "key_b": b, "reason": reason})


def _known_ngrams(text: str, language: str, toks):
    """Greedy longest known names over token n-grams: (start, end, entry, how)."""
    n, i, out = len(toks), 0, []
    lower_aliases = gazetteer.lowercase_aliases()
    cap = [t[2][:1].isupper() for t in toks]
    # joined[i]: tokens i and i+1 are separated by spaces or a hyphen only (they can be one name)
    joined = [not text[toks[k][1] : toks[k + 1][0]].strip(" -") for k in range(n - 1)] + [False]
    while i < n:
        if toks[i][2] in lower_aliases:
            entry = gazetteer.lookup(toks[i][2], language)
            out.append((toks[i][0], toks[i][1], entry, "gazetteer"))
            i += 1
            continue
        if not (cap[i] or (i + 1 < n and cap[i + 1] and joined[i])):
            i += 1
            continue
        # the longest run of joined tokens from i, at most MAX_NGRAM
        longest = 1
        while longest < MAX_NGRAM and i + longest < n and joined[i + longest - 1]:
            longest += 1
        hit = None
        for size in range(longest, 0, -1):
            if size == 1 and not cap[i]:
                continue
            if not any(cap[i : i + size]):
                continue
            surface = text[toks[i][0] : toks[i + size - 1][1]]
            window = toks[i : i + size]
            lowercase_lead = not cap[i]
            entry = gazetteer.lookup(surface, language)
            how = "gazetteer"
            if entry is None and size == 1:
                lemma = _lemma(surface, language)
                if lemma != surface:
                    entry, how = gazetteer.lookup(lemma, language), "lemma"
            if entry is not None and lowercase_lead and entry.subtype == "city":
                entry = None  # "el Banco" is not the town El Banco; "châu Âu" (a region) may start lower-case
            if entry is not None:
                hit = (window[0][0], window[-1][1], entry, how, size)
                break
        if hit:
            out.append(hit[:4])
            i += hit[4]
        else:
            i += 1
    return out


@lru_cache(maxsize=256)
def _connectors_of(language: str) -> frozenset[str]:
    from flows.lexicon.names import connectors

    return connectors() | function_words(language)


def _is_common_word(word: str, acc: _ArticleMentions) -> bool:
    """A capitalised word that is an ordinary word of the language (it opens a sentence, not a name)."""
    lower = word.lower()
    if lower in acc.lower_words or word.casefold() in function_words(acc.language):
        return True
    if lemmas.is_known(lower, acc.language):
        return True
    lemma = _lemma(word, acc.language)
    return lemma != word and lemma.islower()


def _trim(span, text: str, acc: _ArticleMentions):
    """Drop ordinary words that open the sentence ("Istnieje", "The Liège"); None if nothing is left."""
    words = span.text.split()
    while (
        words
        and _opens_sentence(text, span.start)
        and (
            not words[0][:1].isupper()
            or (
                _is_common_word(words[0], acc)
                and gazetteer.demonym(words[0], _lemma(words[0], acc.language), acc.language) is None
            )
        )
    ):
        rest = span.text[len(words[0]) :].lstrip()
        span = type(span)(span.end - len(rest), span.end, rest)
        words = words[1:]
    return span if words else None


def _split_around_known(span, known_spans: list[tuple[int, int]], language: str) -> list:
    """A known place or a country's adjective run together with a person's name is two things:
    'США Дональд Трамп', 'Paris Rémy Heitz', 'Ukrainian President Volodymyr Zelenskyy' -> the name after
    it. Organisations keep their place in their name ('Belgian State Security Service')."""
    words = span.text.split()
    if len(words) < 2:
        return [span]
    cut = max((z for a, z in known_spans if span.start <= a and z < span.end), default=None)
    if cut is None:
        first = words[0]
        if gazetteer.demonym(first, _lemma(first, language), language) is None:
            return [span]
        cut = span.start + len(first)
    rest = span.text[cut - span.start :]
    lead = len(rest) - len(rest.lstrip(" -–"))
    rest = rest.strip(" -–")
    if not rest or not rest[:1].isupper():
        return [span]
    org = gazetteer.org_words(language)
    if any(fold(w) in org for w in span.text.split()):
        return [span]  # 'Belgian State Security Service', 'Morocco’s geophysical centre'
    start = cut + lead
    return [type(span)(start, start + len(rest), rest)]


@lru_cache(maxsize=256)
def _titles(language: str):
    """Titles written before a person's name: the language's person descriptors without their article
    ('the minister' -> 'minister', 'der Präsident' -> 'Präsident')."""
    import regex

    fw = function_words(language)
    titles = set()
    for cue in cues().filter(pl.col("kind") == "descriptor_per", pl.col("language") == language)["cue"]:
        words = cue.split()
        while words and words[0].casefold().strip("’'") in fw:
            words = words[1:]
        if words:
            titles.add(" ".join(words))
    if not titles:
        return None
    alternation = "|".join(regex.escape(t) for t in sorted(titles, key=len, reverse=True))
    return regex.compile(rf"(?:(?:{alternation})(?![\p{{L}}\p{{M}}])[\s-]*)+", regex.IGNORECASE)


def _without_title(span, language: str):
    """A person's name without the title before it: 'Minister Vincent Van Quickenborne' -> the name."""
    words = span.text.split()
    pattern = _titles(language)
    if len(words) < 2 or pattern is None:
        return span, words
    m = pattern.match(span.text)
    if not m:
        return span, words
    rest = span.text[m.end() :]
    if not rest or not rest[:1].isupper():
        return span, words
    trimmed = type(span)(span.end - len(rest), span.end, rest)
    return trimmed, rest.split()


def _opens_sentence(text: str, start: int) -> bool:
    return not text[:start].strip(" \"'“”„«»‘’([-–—:")


def _sentence_mentions(acc: _ArticleMentions, sid: str, base: int, text: str, speakers: list[str]):
    language = acc.language
    toks = tokens(text)
    spans = [t for t in (_trim(s, text, acc) for s in name_spans(text, language, toks=toks)) if t is not None]
    known = []
    # names in scripts without capitals (Arabic, Han, Devanagari...) come from the automaton, not from tokens
    for a, z, entry in gazetteer.uncased_names(text, language):
        known.append((a, z, entry, "gazetteer"))
    for a, z, entry, how in _known_ngrams(text, language, toks):
        if any(a < kz and ka < z for ka, kz, _, _ in known):
            continue
        inside_longer = any(s.start <= a and z <= s.end and (s.start, s.end) != (a, z) and " " in s.text for s in spans)
        if entry.subtype == "city" and (
            inside_longer or (_opens_sentence(text, a) and _is_common_word(text[a:z], acc))
        ):
            continue  # 'Vincent' in 'Vincent Van Quickenborne'; 'Tale' opening an Italian sentence
        known.append((a, z, entry, how))
    taken = [(a, z) for a, z, _, _ in known]
    for a, z, entry, how in known:
        acc.add(sid, base, a, z, text[a:z], entry.key, how, entry.type)

    def overlaps(a, z):
        return any(a < tz and ta < z for ta, tz in taken)

    skip = gazetteer.non_names(language)
    persons: dict[str, str] = {}
    known_spans = list(taken)
    spans = [piece for span in spans for piece in _split_around_known(span, known_spans, language)]
    for span in spans:
        if (
            any(a <= span.start and span.end <= z for a, z in known_spans)
            or overlaps(span.start, span.end)
            and not any(span.start <= a and z <= span.end for a, z in known_spans)
        ):
            continue  # the known name already covers it (a longer name around a known one stays)
        inner = [(a, z) for a, z in known_spans if span.start <= a and z <= span.end]
        rest = span.text
        for a, z in sorted(inner, reverse=True):
            rest = rest[: a - span.start] + rest[z - span.start :]
        if inner and not [w for w in rest.split() if w.casefold() not in _connectors_of(language)]:
            continue  # only known names and connectors: "Lisboa e Setúbal"
        words = span.text.split()
        if norm(span.text) in skip or words[0].casefold() in skip:
            continue
        if len(words) == 1:
            country = gazetteer.demonym(words[0], _lemma(words[0], language), language)
            if country is not None:
                acc.add(sid, base, span.start, span.end, span.text, country.key, "demonym", "LOC")
                continue
        outlet = resolve_outlet(span.text) if len(span.text) >= 6 and " " in span.text else None
        if outlet is not None:  # a close spelling of a known outlet ("Finance Times")
            entry = gazetteer.lookup(outlet[0], language)
            if entry is not None:
                acc.add(sid, base, span.start, span.end, span.text, entry.key, "fuzzy", "ORG")
                taken.append((span.start, span.end))
                continue
        span, words = _without_title(span, language)
        if span is None:
            continue
        how = "name"
        if language in setting("names", "capitalised_nouns"):
            # every noun is capitalised there: a capitalised word is a name only when the dictionary does
            # not know it, or a longer name of common words repeats across the corpus (decided in linking)
            common = [lemmas.is_known(w, language) or lemmas.is_known(w.lower(), language) for w in words]
            if all(common):
                if len(words) == 1:
                    continue
                how = "common_words"
        hint = _type_hint(span.text, language)
        key = name_key(span.text)
        acc.add(sid, base, span.start, span.end, span.text, key, how, hint)
        if hint == "PER":  # 'Quickenborne', 'Van Quickenborne' may stand for 'Vincent Van Quickenborne'
            for k in range(1, len(words)):
                persons.setdefault(fold(" ".join(words[k:])), key)
        if len(words) == 1:
            lemma = _lemma(span.text, language)
            if lemma != span.text:
                acc.edge(key, name_key(lemma), "lemma")
        # a demonym opening a longer name is also a mention of the place ("Belgian State Security Service")
        first = words[0]
        country = gazetteer.demonym(first, _lemma(first, language), language) if len(words) > 1 else None
        if country is not None:
            acc.add(sid, base, span.start, span.start + len(first), first, country.key, "demonym", "LOC")
        taken.append((span.start, span.end))
    fw = function_words(language)
    # lower-case demonyms and adjectives: 'belga', 'belgisk', 'chińskiego'
    heads = gazetteer.country_heads(language)
    for a, z, word in toks:
        if len(word) < 4 or fold(word)[:3] not in heads or word[:1].isupper() or word in fw or overlaps(a, z):
            continue
        country = gazetteer.demonym(word, _lemma(word, language), language)
        if country is not None:
            acc.add(sid, base, a, z, word, country.key, "demonym", "LOC")
    # acronyms defined in parentheses: "Belgian State Security Service (VSSE)"
    for m in _ACRONYM.finditer(text):
        acr = m.group(1)
        if not _is_acronym(acr):
            continue
        acr_key = name_key(acr)
        before = [
            r
            for r in acc.rows
            if r["sentence_id"] == sid
            and r["end_char"] - base <= m.start()
            and not text[r["end_char"] - base : m.start()].strip()
        ]
        if not any(r["start_char"] - base == m.start(1) for r in acc.rows if r["sentence_id"] == sid):
            acc.add(sid, base, m.start(1), m.end(1), acr, acr_key, "acronym", "ORG")
        if before:
            long_form = max(before, key=lambda r: r["end_char"] - r["start_char"])
            if long_form["how"] == "name":
                long_form["type_hint"] = "ORG"
                acc.edge(long_form["entity_key"], acr_key, "acronym")
    # speakers claims are attributed to, where the sentence spells them out
    for speaker in speakers:
        pos = text.find(speaker)
        end = pos + len(speaker)
        # a run of capitalised nouns around the speaker is no name ('Angaben der Besatzung'): the speaker is
        # the mention ('laut Rettungskräften', 'nach Angaben der Besatzung')
        weak = [
            r
            for r in acc.rows
            if r["sentence_id"] == sid
            and r["how"] == "common_words"
            and r["start_char"] <= base + pos
            and base + end <= r["end_char"]
        ]
        for r in weak:
            acc.rows.remove(r)
            span = (r["start_char"] - base, r["end_char"] - base)
            taken[:] = [t for t in taken if t != span]
        if pos >= 0:
            _drop_place_prefix(acc, sid, base, pos, end, speaker, taken)
        inside_known = any(a <= pos and end <= z for a, z in taken)
        if pos < 0 or inside_known or not any(ch.isalpha() for ch in speaker):
            continue  # a speaker that is a known name is already a mention; longer phrases nest them
        if descriptor_type(speaker, language):
            continue  # "the company", "he": resolved to an entity named earlier (flows/link/sources.py)
        acc.add(sid, base, pos, pos + len(speaker), speaker, name_key(speaker), "source", _type_hint(speaker, language))
    return persons


def _drop_place_prefix(acc: _ArticleMentions, sid: str, base: int, pos: int, end: int, speaker: str, taken: list):
    """A name span that runs a place onto the speaker ('Paris Rémy Heitz' for the speaker 'Rémy Heitz',
    flows/extract/attribution.py): the mention is the speaker's name, so the claim's source resolves."""
    for r in acc.rows:
        if (
            r["sentence_id"] != sid
            or r["how"] != "name"
            or r["end_char"] != base + end
            or r["start_char"] >= base + pos
        ):
            continue
        prefix = r["surface"][: base + pos - r["start_char"]].split()
        place = gazetteer.lookup(prefix[0], acc.language) if len(prefix) == 1 else None
        if place is None or place.type != "LOC":
            continue
        span = (r["start_char"] - base, r["end_char"] - base)
        r.update(start_char=base + pos, surface=speaker, entity_key=name_key(speaker))
        taken[:] = [(pos, end) if t == span else t for t in taken]
        a = span[0]  # the place stays a mention of its own
        acc.add(sid, base, a, a + len(prefix[0]), prefix[0], place.key, "gazetteer", "LOC")
        taken.append((a, a + len(prefix[0])))
        return


def extract_mentions(articles: pl.DataFrame, sentences: pl.DataFrame, claims: pl.DataFrame):
    """(mentions, edges) for a batch of articles."""
    speakers = defaultdict(list)
    for sid, name, kind in claims.select("sentence_id", "source_name", "source_kind").iter_rows():
        if name and kind == "speaker":
            speakers[sid].append(name)
    rows, edges = [], []
    by_article = sentences.partition_by("article_id", as_dict=True)
    for aid, language, text in articles.select("article_id", "language", "text").iter_rows():
        part = by_article.get((aid,))
        if part is None:
            continue
        acc = _ArticleMentions(aid, language, text)
        persons: dict[str, str] = {}
        for s in part.sort("position").iter_rows(named=True):
            if s["kind"] in SKIP_KINDS:
                continue
            persons.update(
                _sentence_mentions(
                    acc, s["sentence_id"], s["start_char"], s["text"], speakers.get(s["sentence_id"], [])
                )
            )
        # a surname alone may be the person named in full in the same article (decided corpus-wide)
        for r in acc.rows:
            if r["how"] == "name" and fold(r["surface"]) in persons and persons[fold(r["surface"])] != r["entity_key"]:
                acc.edge(r["entity_key"], persons[fold(r["surface"])], "surname")
        rows.extend(acc.rows)
        edges.extend(acc.edges)
    # the same evidence twice in one article is one edge
    return pl.DataFrame(rows, schema=MENTION_SCHEMA), pl.DataFrame(edges, schema=EDGE_SCHEMA).unique(
        maintain_order=True
    )
