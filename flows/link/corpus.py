"""Corpus-wide steps over the staged tables: entities, stories, claim clusters, contradictions.

They run after staging and before the audit, so what they derive is audited with everything else.
Pure functions over frames (staging.* in, replaced tables out), so a task runner may run them anywhere.
"""
from __future__ import annotations

import polars as pl

from flows.link import contradictions
from flows.link import entities
from flows.link import stories
from flows.lexicon.gazetteer import fold

# the staged tables `link` reads
INPUTS = ("articles", "mentions", "entity_edges", "claims", "citations", "quantities", "dates")


def link(staged: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every corpus-wide table, and the per-article tables whose links change, from the staged tables."""
    out = resolve_entities(staged)
    out.update(link_stories({**staged, **out}))
    return out


def resolve_entities(staged: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    mentions, edges = staged["mentions"], staged["entity_edges"]
    languages = dict(staged["articles"].select("article_id", "language").iter_rows())
    ents, aliases, mentions, key_to_id = entities.resolve(mentions, edges, languages)

    alias_index: dict[str, str] = {}
    for eid, alias in aliases.select("entity_id", "alias").iter_rows():
        alias_index.setdefault(fold(alias), eid)
    for eid, name in ents.select("entity_id", "name").iter_rows():
        alias_index.setdefault(fold(name), eid)

    claims = staged["claims"]
    claims = claims.with_columns(
        pl.Series("source_entity_id", [
            entities.source_entity(name, lang, alias_index, key_to_id)
            for name, lang in claims.select("source_name", "language").iter_rows()
        ], pl.String)
    )
    # the entities each claim mentions: mentions inside the claim's span
    inside = (
        claims.select("claim_id", "sentence_id", "start_char", "end_char")
        .join(mentions.select("sentence_id", pl.col("start_char").alias("m_start"), "entity_id"), on="sentence_id")
        .filter(pl.col("m_start") >= pl.col("start_char"), pl.col("m_start") < pl.col("end_char"))
        .group_by("claim_id").agg(pl.col("entity_id").unique().sort().alias("entity_ids"))
    )
    claims = claims.drop("entity_ids").join(inside, on="claim_id", how="left")
    for table, id_col, out_col in (("quantities", "quantity_id", "quantity_ids"), ("dates", "date_id", "date_ids")):
        found = staged[table].select("sentence_id", pl.col("start_char").alias("f_start"), id_col)
        linked = (
            claims.select("claim_id", "sentence_id", "start_char", "end_char").join(found, on="sentence_id")
            .filter(pl.col("f_start") >= pl.col("start_char"), pl.col("f_start") < pl.col("end_char"))
            .group_by("claim_id").agg(pl.col(id_col).sort().alias(out_col))
        )
        claims = claims.drop(out_col).join(linked, on="claim_id", how="left")

    citations = staged["citations"]
    citations = citations.with_columns(
        pl.Series("entity_id", [alias_index.get(fold(n)) for n in citations["name"]], pl.String)
    )
    return {"entities": ents, "entity_aliases": aliases, "mentions": mentions, "claims": claims, "citations": citations}


def link_stories(staged: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Stories across languages, then clusters of the same claim inside each story."""
    articles = staged["articles"]
    # who reports (outlets, agencies) and continents say nothing about which event an article is about
    mentions = staged["mentions"].select("article_id", "entity_id").join(
        staged["entities"].filter(~pl.col("subtype").is_in(["outlet", "agency", "region"])).select("entity_id"),
        on="entity_id")
    per_article = {aid: set() for aid in articles["article_id"]}
    for aid, eid in mentions.iter_rows():
        per_article.setdefault(aid, set()).add(eid)
    order = articles.sort("published", "article_id", nulls_last=True)["article_id"].to_list()
    story_of = stories.group_stories(per_article, order)
    articles = articles.with_columns(pl.col("article_id").replace_strict(story_of, return_dtype=pl.String).alias("story_id"))

    names = dict(staged["entities"].select("entity_id", "name").iter_rows())
    story_rows = []
    for (sid,), part in articles.sort("published", "article_id", nulls_last=True).partition_by("story_id", as_dict=True).items():
        ids = set(part["article_id"])
        counts = {}
        for aid in ids:
            for eid in per_article.get(aid, ()):
                counts[eid] = counts.get(eid, 0) + 1
        top = sorted(counts, key=lambda e: (-counts[e], names.get(e, "")))[:8]
        story_rows.append({
            "story_id": sid, "label": part["title"].drop_nulls().first() or part["source_uri"][0],
            "articles": part.height, "languages": sorted(set(part["language"])),
            "first_published": part["published"].min(), "top_entities": [names.get(e, e) for e in top],
        })

    claims = staged["claims"].select("claim_id", "article_id", "language", "entity_ids", "quantity_ids", "date_ids")
    claims = claims.with_columns(pl.col("article_id").replace_strict(story_of, return_dtype=pl.String).alias("story_id"))
    quantity = {qid: f"Q:{unit}:{value:g}" for qid, unit, value in
                staged["quantities"].select("quantity_id", "unit", "value").iter_rows()}
    date = {did: f"D:{precision}:{value}" for did, precision, value in
            staged["dates"].filter(pl.col("value").is_not_null()).select("date_id", "precision", "value").iter_rows()}
    anchors = {}
    for cid, eids, qids, dids in claims.select("claim_id", "entity_ids", "quantity_ids", "date_ids").iter_rows():
        anchors[cid] = ({f"E:{e}" for e in eids or ()} | {quantity[q] for q in qids or () if q in quantity}
                        | {date[d] for d in dids or () if d in date})
    texts_of = dict(staged["claims"].select("claim_id", "text").iter_rows())
    clusters = stories.cluster_claims(claims, anchors, texts_of)

    full_claims = staged["claims"].join(
        claims.select("claim_id", "story_id"), on="claim_id")
    in_claims = lambda table, key, ids: (  # noqa: E731  rows of `table` listed in claims.<ids>
        full_claims.select("claim_id", pl.col(ids).alias(key)).explode(key).drop_nulls(key)
        .join(staged[table], on=key)
    )
    texts = dict(articles.select("article_id", "text").iter_rows())
    found = contradictions.find_contradictions(
        full_claims, clusters,
        staged["mentions"].filter(pl.col("entity_id").is_not_null()),
        staged["entities"],
        in_claims("quantities", "quantity_id", "quantity_ids"),
        in_claims("dates", "date_id", "date_ids"),
        texts,
    )
    return {
        "articles": articles,
        "stories": pl.DataFrame(story_rows, schema=stories.STORY_SCHEMA),
        "claim_clusters": clusters,
        "contradictions": found,
    }
