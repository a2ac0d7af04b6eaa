"""One batch of articles through every per-article step: the one function the flow's task, the tests and
the benchmark all call.
"""

from __future__ import annotations

import polars as pl

from flows.config import setting
from flows.extract import attribution, dates, langid, mentions, quantities, segment

# what extract_batch returns, in the order the steps produce it
OUTPUTS = ("articles", "sentences", "citations", "claims", "mentions", "entity_edges", "dates", "quantities", "skipped")


def extract_batch(articles: pl.DataFrame, languages: list[str] | None = None) -> dict[str, pl.DataFrame]:
    """Language ID, segmentation and extraction for one batch of ingested articles.

    Articles in a language outside `languages` come back in "skipped", unextracted.
    """
    articles = langid.identify_articles(articles)
    skipped = articles.filter(~pl.col("language").is_in(languages)) if languages else articles.head(0)
    articles = articles.filter(pl.col("language").is_in(languages)) if languages else articles
    sentences = langid.identify_sentences(segment.segment(articles))
    articles = langid.flag_articles(articles, sentences)
    articles = _titles_from_headlines(articles, sentences)
    sources = attribution.own_sources(articles, sentences)
    citations = attribution.extract_citations(articles, sentences, sources)
    claims = attribution.extract_claims(articles, sentences, citations, sources)
    found_mentions, edges = mentions.extract_mentions(articles, sentences, claims)
    found_dates = dates.extract_dates(articles, sentences)
    found_quantities = quantities.extract_quantities(articles, sentences, found_dates)
    return {
        "articles": articles.drop("all_uris"),
        "sentences": sentences,
        "citations": citations,
        "claims": claims,
        "mentions": found_mentions,
        "entity_edges": edges,
        "dates": found_dates,
        "quantities": found_quantities,
        "skipped": skipped.select("article_id", "all_uris", "language"),
    }


def _titles_from_headlines(articles: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    """An article without a title (no front matter, no JSONL field) is titled by its headline sentence, or
    failing one by its lead (the first body sentence, clipped); `title_source` says which."""
    first = lambda kind: (  # noqa: E731  the first sentence of `kind` per article
        sentences.filter(pl.col("kind") == kind)
        .sort("position")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("text").first().alias(f"_{kind}"))
    )
    limit = setting("ingest", "lead_title_chars")
    lead = pl.col("_body").str.strip_chars()
    clipped = (
        pl.when(lead.str.len_chars() <= limit)
        .then(lead)
        .otherwise(lead.str.slice(0, limit).str.replace(r"\s+\S*$", "") + "…")
    )
    return (
        articles.join(first("headline"), on="article_id", how="left")
        .join(first("body"), on="article_id", how="left")
        .with_columns(
            pl.when(pl.col("title").is_not_null())
            .then(pl.lit("metadata"))
            .when(pl.col("_headline").is_not_null())
            .then(pl.lit("headline"))
            .when(pl.col("_body").is_not_null())
            .then(pl.lit("lead"))
            .alias("title_source"),
            pl.coalesce(pl.col("title"), pl.col("_headline"), clipped).alias("title"),
        )
        .drop("_headline", "_body")
    )
