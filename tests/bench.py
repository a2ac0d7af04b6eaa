"""Benchmarks (`make bench`): extraction throughput on the seeds repeated to 1,000 articles, one core.

Prints articles per second for the whole process-batch step (language ID, sentences, citations,
claims, entities, dates, quantities) and for each part, after one warm-up batch that loads the
models and gazetteers. Not a test: speed targets live here, not in timed unit tests.
"""
from __future__ import annotations

import os
import time

os.environ.setdefault("POLARS_MAX_THREADS", "1")

import polars as pl  # noqa: E402

from flows import attribution, dates, entities, ingest, langid, quantities, segment  # noqa: E402
from tests.conftest import SEEDS  # noqa: E402

N = int(os.environ.get("BENCH_ARTICLES", "1000"))


def corpus(n: int) -> pl.DataFrame:
    seeds, _ = ingest.read_files(sorted(SEEDS.glob("*.txt")))
    reps = (n + seeds.height - 1) // seeds.height
    frame = pl.concat([seeds] * reps).head(n)
    return frame.with_columns((pl.col("article_id") + "-" + pl.int_range(pl.len()).cast(pl.String)).alias("article_id"))


def timed(label, fn, timings):
    t0 = time.perf_counter()
    value = fn()
    timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0
    return value


def run(articles: pl.DataFrame, timings: dict) -> None:
    articles = timed("language id (articles)", lambda: langid.identify_articles(articles), timings)
    sents = timed("sentences", lambda: segment.segment(articles), timings)
    sents = timed("language id (sentences)", lambda: langid.identify_sentences(sents), timings)
    articles = langid.flag_articles(articles, sents)
    sources = timed("attribution", lambda: attribution.own_sources(articles, sents), timings)
    cites = timed("citations", lambda: attribution.extract_citations(articles, sents, sources), timings)
    claims = timed("claims", lambda: attribution.extract_claims(articles, sents, cites, sources), timings)
    timed("entities", lambda: entities.extract_mentions(articles, sents, claims), timings)
    found = timed("dates", lambda: dates.extract_dates(articles, sents), timings)
    timed("quantities", lambda: quantities.extract_quantities(articles, sents, found), timings)


def main() -> None:
    frame = corpus(N)
    run(frame.head(5), {})  # warm-up: load fastText, CLDR, GeoNames
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    for i in range(0, frame.height, 200):
        run(frame.slice(i, 200), timings)
    total = time.perf_counter() - t0
    print(f"extraction on {frame.height} articles (seeds repeated), one core: {total:.2f} s, {frame.height / total:.0f} articles/s")
    for label, seconds in timings.items():
        print(f"  {label:26} {seconds:6.2f} s  {frame.height / seconds:8.0f} articles/s")


if __name__ == "__main__":
    main()
