"""Corpus-wide entity resolution: one entity per component of the mention keys the corpus links.

Resolution unions keys that the corpus shows are one thing — an acronym defined in parentheses
("... Service (VSSE)"), the same name in several articles or languages, a surname after the full
name, an inflected form of a name seen elsewhere — and names the entity after its known (gazetteer)
name or its commonest surface.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

import polars as pl

from flows.extract.mentions import name_key
from flows.lexicon import gazetteer
from flows.lexicon.gazetteer import fold
from flows.lexicon.names import skeleton
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
