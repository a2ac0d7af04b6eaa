"""Run the pure (non-Prefect) pipeline steps on files, for unit tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

from flows.extract import ingest
from flows.extract.batch import extract_batch
from tests.conftest import SEEDS


def process(paths: list[Path]) -> dict[str, pl.DataFrame]:
    """What the flow's process-batch task computes for these files (its plain function, no Prefect)."""
    articles, _ = ingest.read_files(paths)
    return extract_batch(articles)


@cache
def seeds() -> dict[str, pl.DataFrame]:
    return process(sorted(SEEDS.glob("*.txt")))


def by_language(frame: pl.DataFrame, language: str) -> pl.DataFrame:
    ids = seeds()["articles"].filter(pl.col("language") == language)["article_id"]
    return frame.filter(pl.col("article_id").is_in(ids.implode()))
