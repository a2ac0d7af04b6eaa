"""Corpus-wide steps over staging.*: resolve entities and link claims and citations to them.

They run after staging and before the audit, so what they derive is audited with everything else.
"""
from __future__ import annotations

import polars as pl

from flows import contradictions, entities, stories
from flows.gazetteer import fold
from flows.warehouse import Warehouse


def resolve_entities(warehouse: Warehouse) -> dict[str, int]:
    mentions = warehouse.query("SELECT * FROM staging.mentions")
    edges = warehouse.query("SELECT * FROM staging.entity_edges")
    languages = dict(warehouse.query("SELECT article_id, language FROM staging.articles").iter_rows())
    ents, aliases, mentions, key_to_id = entities.resolve(mentions, edges, languages)

    alias_index: dict[str, str] = {}
    for eid, alias in aliases.select("entity_id", "alias").iter_rows():
        alias_index.setdefault(fold(alias), eid)
    for eid, name in ents.select("entity_id", "name").iter_rows():
        alias_index.setdefault(fold(name), eid)

    claims = warehouse.query("SELECT * FROM staging.claims")
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
        found = warehouse.query(f"SELECT sentence_id, start_char AS f_start, {id_col} FROM staging.{table}")
        linked = (
            claims.select("claim_id", "sentence_id", "start_char", "end_char").join(found, on="sentence_id")
            .filter(pl.col("f_start") >= pl.col("start_char"), pl.col("f_start") < pl.col("end_char"))
            .group_by("claim_id").agg(pl.col(id_col).sort().alias(out_col))
        )
        claims = claims.drop(out_col).join(linked, on="claim_id", how="left")

    citations = warehouse.query("SELECT * FROM staging.citations")
    citations = citations.with_columns(
        pl.Series("entity_id", [alias_index.get(fold(n)) for n in citations["name"]], pl.String)
    )
    warehouse.write_staging({
        "entities": ents, "entity_aliases": aliases, "mentions": mentions,
        "claims": claims, "citations": citations,
    })
    return {"entities": ents.height, "mentions": mentions.height}


def link_stories(warehouse: Warehouse) -> dict[str, int]:
    """Stories across languages, then clusters of the same claim inside each story."""
    articles = warehouse.query("SELECT * FROM staging.articles")
    # who reports (outlets, agencies) and continents say nothing about which event an article is about
    mentions = warehouse.query("""SELECT m.article_id, m.entity_id FROM staging.mentions m
                                  JOIN staging.entities e USING (entity_id)
                                  WHERE e.subtype NOT IN ('outlet', 'agency', 'region')""")
    per_article = {aid: set() for aid in articles["article_id"]}
    for aid, eid in mentions.iter_rows():
        per_article.setdefault(aid, set()).add(eid)
    order = articles.sort("published", "article_id", nulls_last=True)["article_id"].to_list()
    story_of = stories.group_stories(per_article, order)
    articles = articles.with_columns(pl.col("article_id").replace_strict(story_of, return_dtype=pl.String).alias("story_id"))

    names = dict(warehouse.query("SELECT entity_id, name FROM staging.entities").iter_rows())
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

    claims = warehouse.query("SELECT claim_id, article_id, language, entity_ids, quantity_ids, date_ids FROM staging.claims")
    claims = claims.with_columns(pl.col("article_id").replace_strict(story_of, return_dtype=pl.String).alias("story_id"))
    quantity = {qid: f"Q:{unit}:{value:g}" for qid, unit, value in
                warehouse.query("SELECT quantity_id, unit, value FROM staging.quantities").iter_rows()}
    date = {did: f"D:{precision}:{value}" for did, precision, value in
            warehouse.query("SELECT date_id, precision, value FROM staging.dates WHERE value IS NOT NULL").iter_rows()}
    anchors = {}
    for cid, eids, qids, dids in claims.select("claim_id", "entity_ids", "quantity_ids", "date_ids").iter_rows():
        anchors[cid] = ({f"E:{e}" for e in eids or ()} | {quantity[q] for q in qids or () if q in quantity}
                        | {date[d] for d in dids or () if d in date})
    texts_of = dict(warehouse.query("SELECT claim_id, text FROM staging.claims").iter_rows())
    clusters = stories.cluster_claims(claims, anchors, texts_of)

    full_claims = warehouse.query("SELECT * FROM staging.claims").join(
        claims.select("claim_id", "story_id"), on="claim_id")
    in_claims = lambda table, key, ids: (  # noqa: E731  rows of `table` listed in claims.<ids>
        full_claims.select("claim_id", pl.col(ids).alias(key)).explode(key).drop_nulls(key)
        .join(warehouse.query(f"SELECT * FROM staging.{table}"), on=key)
    )
    texts = dict(articles.select("article_id", "text").iter_rows())
    found = contradictions.find_contradictions(
        full_claims, clusters,
        warehouse.query("SELECT * FROM staging.mentions WHERE entity_id IS NOT NULL"),
        warehouse.query("SELECT * FROM staging.entities"),
        in_claims("quantities", "quantity_id", "quantity_ids"),
        in_claims("dates", "date_id", "date_ids"),
        texts,
    )
    warehouse.write_staging({
        "articles": articles,
        "stories": pl.DataFrame(story_rows, schema=stories.STORY_SCHEMA),
        "claim_clusters": clusters,
        "contradictions": found,
    })
    return {"stories": len(story_rows), "claim_clusters": clusters["cluster_id"].n_unique(),
            "contradictions": found.height}
