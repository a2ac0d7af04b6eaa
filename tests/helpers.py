"""Run the pure (non-Prefect) pipeline steps on files, for unit tests."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from flows import attribution, ingest, langid, segment
from tests.conftest import SEEDS


def process(paths: list[Path]) -> dict[str, pl.DataFrame]:
    articles, _ = ingest.read_files(paths)
    articles = langid.identify_articles(articles)
    sentences = langid.identify_sentences(segment.segment(articles))
    articles = langid.flag_articles(articles, sentences)
    citations = attribution.extract_citations(articles, sentences)
    claims = attribution.extract_claims(articles, sentences, citations)
    return {"articles": articles, "sentences": sentences, "citations": citations, "claims": claims}


@cache
def seeds() -> dict[str, pl.DataFrame]:
    return process(sorted(SEEDS.glob("*.txt")))


def by_language(frame: pl.DataFrame, language: str) -> pl.DataFrame:
    ids = seeds()["articles"].filter(pl.col("language") == language)["article_id"]
    return frame.filter(pl.col("article_id").is_in(ids.implode()))
