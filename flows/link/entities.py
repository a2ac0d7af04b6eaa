"""Corpus-wide entity resolution: one entity per component of the mention keys the corpus links.

Resolution unions keys that the corpus shows are one thing — an acronym defined in parentheses
("... Service (VSSE)"), the same name in several articles or languages, a surname after the full
name, an inflected form of a name seen elsewhere — and names the entity after its known (gazetteer)
name or its commonest surface.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from functools import lru_cache

import polars as pl

from flows.extract.mentions import name_key
from flows.lexicon import gazetteer, lemmas
from flows.lexicon.gazetteer import fold
from flows.lexicon.names import function_words, skeleton
from flows.link.unionfind import UnionFind

ENTITY_SCHEMA = {
    "entity_id": pl.String,
    "name": pl.String,
    "type": pl.String,
    "subtype": pl.String,
    "external_id": pl.String,
    "mentions": pl.Int32,
    "articles": pl.Int32,
    "languages": pl.List(pl.String),
}
ALIAS_SCHEMA = {"entity_id": pl.String, "alias": pl.String, "language": pl.String, "mentions": pl.Int32}


def _root_rank(key: str) -> tuple[bool, str]:
    # known entities (LOC:/ORG:) stay roots so the component keeps their identity; else the smallest key
    return key.startswith("NAME:"), key


SKELETON_MIN = 5  # consonants a name's skeleton needs before it may join names written another way


def entity_id(key: str) -> str:
    return "E" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def resolve(mentions: pl.DataFrame, edges: pl.DataFrame, languages: dict[str, str]):
    """One entity per component of candidate keys: (entities, aliases, mentions with entity_id, key -> id)."""
    # a run of capitalised common nouns (German) is a name only if more than one article writes it
    weak = (
        mentions.filter(pl.col("how") == "common_words")
        .group_by("entity_key")
        .agg(pl.col("article_id").n_unique().alias("n"))
    )
    lonely = weak.filter(pl.col("n") < 2)["entity_key"]
    mentions = mentions.filter(~(pl.col("how").eq("common_words") & pl.col("entity_key").is_in(lonely.implode())))
    uf = UnionFind(rank=_root_rank)
    keys = set(mentions["entity_key"].to_list())
    for k in keys:
        uf.find(k)
    articles_of = defaultdict(set)
    for k, aid in mentions.select("entity_key", "article_id").iter_rows():
        articles_of[k].add(aid)
    for a, b, reason in edges.select("key_a", "key_b", "reason").iter_rows():
        if reason == "surname" and not articles_of[a] <= articles_of[b]:
            continue  # the bare name also stands alone where the full name never appears: another thing
        if b in keys or a in keys:
            uf.union(a, b)
    # an inflected single-word name seen elsewhere in its base form ("Alibabas" -> "Alibaba")
    names = {k for k in keys if k.startswith("NAME:") and " " not in k}
    for k in names:
        for cut in (1, 2):
            base = k[:-cut]
            if len(base) >= len("NAME:") + 4 and base in names:
                uf.union(base, k)
                break
    # a name written after a title, a role or a place ("President-elect Donald Trump", "США Дональд Трамп",
    # "die Stadt Derna") is the name the corpus also writes alone
    for key, target in _titled_names(mentions, keys).items():
        uf.union(target, key)
    # one name in several scripts or spellings ('Илон Маск' / 'Elon Musk', 'Zelensky' / 'Zelenskyy'): the same
    # long consonant skeleton (flows/lexicon/names.py) is taken to be one person
    by_skeleton = defaultdict(list)
    for k in sorted(keys):
        if k.startswith("NAME:"):
            sk = skeleton(k[len("NAME:") :])
            if len(sk.replace(" ", "")) >= SKELETON_MIN:
                by_skeleton[sk].append(k)
    for group in by_skeleton.values():
        for other in group[1:]:
            uf.union(group[0], other)
    comp_rows = defaultdict(list)
    for r in mentions.select("entity_key", "surface", "type_hint", "article_id", "language").iter_rows(named=True):
        comp_rows[uf.find(r["entity_key"])].append(r)
    gaz_by_key = _gazetteer_entries(keys)
    entities, aliases, key_to_id = [], [], {}
    for root, rows in comp_rows.items():
        eid = entity_id(root)
        entry = gaz_by_key.get(root)
        surfaces = Counter(r["surface"] for r in rows)
        if entry is not None:
            name, etype, subtype, ext = entry.name, entry.type, entry.subtype, entry.external_id
        else:
            name = max(surfaces, key=lambda s: (surfaces[s], len(s), s))
            hints = Counter(r["type_hint"] for r in rows if r["type_hint"] != "MISC")
            etype = hints.most_common(1)[0][0] if hints else "MISC"
            subtype, ext = "", ""
        entities.append(
            {
                "entity_id": eid,
                "name": name,
                "type": etype,
                "subtype": subtype,
                "external_id": ext,
                "mentions": len(rows),
                "articles": len({r["article_id"] for r in rows}),
                "languages": sorted({r["language"] for r in rows}),
            }
        )
        per_alias = Counter((r["surface"], r["language"]) for r in rows)
        for (alias, lang), n in sorted(per_alias.items()):
            aliases.append({"entity_id": eid, "alias": alias, "language": lang, "mentions": n})
    for k in keys:
        key_to_id[k] = entity_id(uf.find(k))
    resolved = mentions.with_columns(
        pl.col("entity_key").replace_strict(key_to_id, return_dtype=pl.String).alias("entity_id")
    )
    return (
        pl.DataFrame(entities, schema=ENTITY_SCHEMA).sort("entity_id"),
        pl.DataFrame(aliases, schema=ALIAS_SCHEMA).sort("entity_id", "alias", "language"),
        resolved,
        key_to_id,
    )


def _is_title_word(word: str, language: str, descriptors: frozenset[str]) -> bool:
    """A word that may stand before a name without being part of it: a function word, a dictionary word of
    the language, a known place or its adjective ("US", "США", "Belgian"), or a descriptor ("Stadt")."""
    parts = [p for p in word.split("-") if p]
    if not parts:
        return False
    for part in parts:
        low = part.casefold()
        if low in function_words(language) or fold(part) in descriptors:
            continue
        if fold(part) in gazetteer.org_words(language):
            return False  # "Bank of America", "Ministry of ...": the words make the name
        if lemmas.is_known(low, language) or gazetteer.lookup(part, language) is not None:
            continue
        if gazetteer.demonym(part, part, language) is not None:
            continue
        return False
    return True


@lru_cache(maxsize=256)
def _descriptors(language: str) -> frozenset[str]:
    """Descriptor nouns of places and people ("die Stadt" -> "stadt"), without their articles."""
    words = set()
    for kind in ("descriptor_loc", "descriptor_per"):
        for phrase in gazetteer.cue_words(language, kind):
            words |= {w for w in phrase.split() if w not in function_words(language)}
    return frozenset(words)


def _titled_names(mentions: pl.DataFrame, keys: set[str]) -> dict[str, str]:
    """NAME key -> the key of the name it ends with, when every word before that name is a title word.

    The name must be one the corpus writes as a mention of its own (or a known place). A name of two or
    more words may follow any title words; a single word only a place after descriptors or function
    words ("die Stadt Derna", not "Air France" or "Real Madrid")."""
    out: dict[str, str] = {}
    candidates = (
        mentions.filter(pl.col("entity_key").str.starts_with("NAME:"), pl.col("surface").str.contains(r"\s"))
        .unique(["entity_key", "language"], keep="first", maintain_order=True)
        .select("entity_key", "surface", "language")
    )
    for key, surface, language in candidates.iter_rows():  # one row per key and language, not per mention
        if key in out:
            continue
        words = surface.split()
        descriptors = _descriptors(language)
        for i in range(1, len(words)):
            suffix = " ".join(words[i:])
            if len(suffix) < 4:
                break
            target = None
            entry = gazetteer.lookup(suffix, language)
            if entry is not None and (len(words) - i >= 2 or entry.type == "LOC"):
                target = entry.key
            elif len(words) - i >= 2 and name_key(suffix) in keys and name_key(suffix) != key:
                target = name_key(suffix)
            if target is None:
                continue
            prefix = words[:i]
            if len(words) - i >= 2:
                ok = all(_is_title_word(w, language, descriptors) for w in prefix)
            else:
                ok = all(_is_place_descriptor(w, language, descriptors) for w in prefix)
            if ok:
                out[key] = target
            break  # the longest name that is known decides: a shorter suffix is part of it
    return out


def _is_place_descriptor(word: str, language: str, descriptors: frozenset[str]) -> bool:
    """'die', 'Stadt', 'US-Stadt': function words, descriptors and places, hyphenated or not."""
    parts = [p for p in word.split("-") if p]
    return bool(parts) and all(
        fold(p) in descriptors
        or p.casefold() in function_words(language)
        or getattr(gazetteer.lookup(p, language), "type", None) == "LOC"
        for p in parts
    )


def _gazetteer_entries(keys) -> dict[str, gazetteer.Entry]:
    """Entries for the known keys in use, found again through their canonical names."""
    out = {}
    for k in keys:
        if k.startswith("NAME:"):
            continue
        out[k] = gazetteer.entry_for_key(k)
    return {k: v for k, v in out.items() if v is not None}


def source_entity(
    name: str | None, language: str, alias_index: dict[str, str], key_to_id: dict[str, str]
) -> str | None:
    """The entity a claim's source names: an alias seen in the corpus, or a known name."""
    if not name:
        return None
    hit = alias_index.get(fold(name))
    if hit:
        return hit
    entry = gazetteer.lookup(name, language)
    if entry is not None and entry.key in key_to_id:
        return key_to_id[entry.key]
    return key_to_id.get(name_key(name))
