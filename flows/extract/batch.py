"""One batch of articles through every per-article step: the one function the flow's task, the tests and
the benchmark all call.
"""

from __future__ import annotations

import polars as pl

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
    """An article without a title (no front matter, no JSONL field) is titled by its headline sentence."""
    headlines = (
        sentences.filter(pl.col("kind") == "headline")
        .sort("position")
        .group_by("article_id", maintain_order=True)
        .agg(pl.col("text").first().alias("_headline"))
    )
    return (
        articles.join(headlines, on="article_id", how="left")
        .with_columns(pl.coalesce(pl.col("title"), pl.col("_headline")).alias("title"))
        .drop("_headline")
    )
