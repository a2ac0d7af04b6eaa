"""Corpus-wide steps over the staged tables: entities, stories, claim clusters, contradictions.

They run after staging and before the audit, so what they derive is audited with everything else.
Pure functions over frames (staging.* in, replaced tables out), so a task runner may run them anywhere.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from flows.lexicon.gazetteer import fold
from flows.link import contradictions, entities, sources, stories
from flows.link.embeddings import Embedder

LEAD_CHARS = 400  # title and lead: what the story embedding reads

# the staged tables `link` reads
INPUTS = ("articles", "mentions", "entity_edges", "claims", "citations", "quantities", "dates")


def link(staged: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every corpus-wide table, and the per-article tables whose links change, from the staged tables.

    `staged["embeddings"]` holds cached vectors; the vectors computed here come back as "embeddings"."""
    embedder = Embedder(staged.get("embeddings"))
    out = resolve_entities(staged)
    out.update(link_stories({**staged, **out}, embedder))
    out["outlets"] = outlets(staged["articles"], out["citations"])
    out["embeddings"] = embedder.new_frame()
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
        pl.Series(
            "source_entity_id",
            [
                entities.source_entity(name, lang, alias_index, key_to_id)
                for name, lang in claims.select("source_name", "language").iter_rows()
            ],
            pl.String,
        )
    )
    # the entities each claim mentions: mentions inside the claim's span
    inside = (
        claims.select("claim_id", "sentence_id", "start_char", "end_char")
        .join(mentions.select("sentence_id", pl.col("start_char").alias("m_start"), "entity_id"), on="sentence_id")
        .filter(pl.col("m_start") >= pl.col("start_char"), pl.col("m_start") < pl.col("end_char"))
        .group_by("claim_id")
        .agg(pl.col("entity_id").unique().sort().alias("entity_ids"))
    )
    claims = claims.drop("entity_ids").join(inside, on="claim_id", how="left")
    claims = sources.resolve(claims, mentions, ents)  # "the company denies" -> the company named before
    for table, id_col, out_col in (("quantities", "quantity_id", "quantity_ids"), ("dates", "date_id", "date_ids")):
        found = staged[table].select("sentence_id", pl.col("start_char").alias("f_start"), id_col)
        linked = (
            claims.select("claim_id", "sentence_id", "start_char", "end_char")
            .join(found, on="sentence_id")
            .filter(pl.col("f_start") >= pl.col("start_char"), pl.col("f_start") < pl.col("end_char"))
            .group_by("claim_id")
            .agg(pl.col(id_col).sort().alias(out_col))
        )
        claims = claims.drop(out_col).join(linked, on="claim_id", how="left")

    citations = staged["citations"]
    citations = citations.with_columns(
        pl.Series("entity_id", [alias_index.get(fold(n)) for n in citations["name"]], pl.String)
    )
    return {"entities": ents, "entity_aliases": aliases, "mentions": mentions, "claims": claims, "citations": citations}


def outlets(articles: pl.DataFrame, citations: pl.DataFrame) -> pl.DataFrame:
    """Every outlet as publisher and as cited source: how many articles each way, in which languages."""
    from flows.lexicon.names import resolve_outlet
    from flows.warehouse.tables import OUTLETS

    published = articles.filter(pl.col("outlet").is_not_null()).select(
        pl.col("outlet").map_elements(lambda o: (resolve_outlet(o) or (o, "outlet"))[0], return_dtype=pl.String),
        pl.col("outlet")
        .map_elements(lambda o: (resolve_outlet(o) or (o, "outlet"))[1], return_dtype=pl.String)
        .alias("kind"),
        "article_id",
        "language",
        pl.lit("published").alias("role"),
        pl.lit(None, pl.String).alias("entity_id"),
    )
    languages = articles.select("article_id", "language")
    cited = citations.join(languages, on="article_id").select(
        pl.col("name").alias("outlet"), "kind", "article_id", "language", pl.lit("cited").alias("role"), "entity_id"
    )
    both = pl.concat([published, cited])
    if both.is_empty():
        return pl.DataFrame(schema=OUTLETS.polars)
    return (
        both.group_by("outlet")
        .agg(
            pl.col("kind").sort().first(),
            pl.col("article_id")
            .filter(pl.col("role") == "published")
            .n_unique()
            .cast(pl.Int32)
            .alias("published_articles"),
            pl.col("article_id").filter(pl.col("role") == "cited").n_unique().cast(pl.Int32).alias("citing_articles"),
            pl.col("language").unique().sort().alias("languages"),
            pl.col("entity_id").drop_nulls().sort().first().alias("entity_id"),
        )
        .select(OUTLETS.column_names)
        .sort("outlet")
    )


def _lead(title: str | None, text: str, body_start: int, title_source: str | None = None) -> str:
    """What an article is about, in its first words: its title (when it is not the lead itself) and its lead."""
    body = text[body_start or 0 :]
    own_title = title and title_source != "lead" and not body.startswith(title)
    return (f"{title}. " if own_title else "") + body[:LEAD_CHARS]


def story_items(
    articles: pl.DataFrame, mentions: pl.DataFrame, entities: pl.DataFrame, embedder: Embedder
) -> tuple[list[stories.StoryItem], dict[str, Counter]]:
    """What story grouping reads of each article: its lead's embedding, its entities, its dates."""
    # who reports (outlets, agencies) and continents say nothing about which event an article is about
    linking = entities.filter(~pl.col("subtype").is_in(["outlet", "agency", "region"]))
    countries = set(entities.filter(pl.col("subtype") == "country")["entity_id"])
    mentions = mentions.select("article_id", "entity_id").join(linking.select("entity_id"), on="entity_id")
    per_article: dict[str, Counter] = {aid: Counter() for aid in articles["article_id"]}
    for aid, eid in mentions.iter_rows():
        per_article.setdefault(aid, Counter())[eid] += 1
    rows = articles.select(
        "article_id", "title", "title_source", "text", "body_start", "published", "published_precision"
    ).to_dicts()
    vectors = embedder.vectors([_lead(r["title"], r["text"], r["body_start"], r["title_source"]) for r in rows])
    items = [
        stories.StoryItem(
            r["article_id"],
            v,
            per_article[r["article_id"]],
            Counter({e: n for e, n in per_article[r["article_id"]].items() if e in countries}),
            stories.interval(r["published"], r["published_precision"]),
        )
        for r, v in zip(rows, vectors)
    ]
    return items, per_article


def link_stories(staged: dict[str, pl.DataFrame], embedder: Embedder) -> dict[str, pl.DataFrame]:
    """Stories across languages, then clusters of the same claim inside each story."""
    articles, entities = staged["articles"], staged["entities"]
    items, per_article = story_items(articles, staged["mentions"], entities, embedder)
    story_of = stories.group_stories(items)
    articles = articles.with_columns(
        pl.col("article_id").replace_strict(story_of, return_dtype=pl.String).alias("story_id")
    )

    names = dict(entities.select("entity_id", "name").iter_rows())
    story_rows = []
    for (sid,), part in (
        articles.sort("published", "article_id", nulls_last=True).partition_by("story_id", as_dict=True).items()
    ):
        counts = Counter()
        for aid in part["article_id"]:
            counts.update(set(per_article.get(aid, ())))
        top = sorted(counts, key=lambda e: (-counts[e], names.get(e, "")))[:8]
        first = part.row(0, named=True)
        story_rows.append(
            {
                "story_id": sid,
                "label": first["title"] or first["text"][first["body_start"] or 0 :].split("\n", 1)[0][:160],
                "articles": part.height,
                "languages": sorted(set(part["language"])),
                "first_published": part["published"].min(),
                "top_entities": [names.get(e, e) for e in top],
            }
        )

    claims = staged["claims"].select(
        "claim_id", "article_id", "language", "text", "start_char", "entity_ids", "quantity_ids", "date_ids"
    )
    claims = claims.with_columns(
        pl.col("article_id").replace_strict(story_of, return_dtype=pl.String).alias("story_id")
    )
    shared = claims.group_by("story_id").agg(pl.col("article_id").n_unique().alias("n")).filter(pl.col("n") > 1)
    claims = claims.join(shared.select("story_id"), on="story_id")  # only stories told by several articles
    quantity = {
        qid: f"Q:{unit}:{value:g}"
        for qid, unit, value in staged["quantities"].select("quantity_id", "unit", "value").iter_rows()
    }
    date = {
        did: f"D:{precision}:{value}"
        for did, precision, value in staged["dates"]
        .filter(pl.col("value").is_not_null())
        .select("date_id", "precision", "value")
        .iter_rows()
    }
    anchors = {
        cid: {quantity[q] for q in qids or () if q in quantity} | {date[d] for d in dids or () if d in date}
        for cid, qids, dids in claims.select("claim_id", "quantity_ids", "date_ids").iter_rows()
    }
    claim_vectors = dict(zip(claims["claim_id"].to_list(), embedder.vectors(claims["text"].to_list())))
    clusters = stories.cluster_claims(claims, claim_vectors, anchors)

    full_claims = staged["claims"].join(claims.select("claim_id", "story_id"), on="claim_id")
    in_claims = lambda table, key, ids: (  # noqa: E731  rows of `table` listed in claims.<ids>
        full_claims.select("claim_id", pl.col(ids).alias(key)).explode(key).drop_nulls(key).join(staged[table], on=key)
    )
    texts = dict(articles.select("article_id", "text").iter_rows())
    found = contradictions.find_contradictions(
        full_claims,
        clusters,
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
