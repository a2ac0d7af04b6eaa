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

from flows.extract import attribution
from flows.extract import dates
from flows.extract import mentions as entities
from flows.link import entities as resolution
from flows.extract import ingest
from flows.extract import langid
from flows.extract import quantities
from flows.extract import segment  # noqa: E402
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


def recombined_corpus(n: int, seed: int = 7) -> pl.DataFrame:
    """n articles made by recombining the sentences of real articles (seeds and fixtures) of one language."""
    import random

    from tests.conftest import FIXTURES

    paths = sorted(SEEDS.glob("*.txt")) + [p for p in sorted(FIXTURES.iterdir()) if p.suffix in (".txt", ".md", ".jsonl")]
    real, _ = ingest.read_files(paths)
    real = langid.identify_articles(real)
    sents = segment.segment(real).filter(pl.col("kind") == "body")
    by_lang: dict[str, list[list[str]]] = {}
    for (aid,), part in sents.partition_by("article_id", as_dict=True).items():
        lang = real.filter(pl.col("article_id") == aid)["language"][0]
        by_lang.setdefault(lang, []).append(part["text"].to_list())
    rng = random.Random(seed)
    langs = sorted(by_lang)
    texts = []
    for i in range(n):
        pools = by_lang[rng.choice(langs)]
        base = rng.choice(pools)
        extra = rng.choice(pools)
        chosen = rng.sample(base, min(len(base), 8)) + rng.sample(extra, min(len(extra), 3))
        texts.append(f"Story {i}\n\n" + "\n\n".join(chosen))
    articles, _ = ingest.read_files([])  # the schema
    frame = pl.DataFrame([
        {**{c: None for c in articles.columns}, "article_id": f"synthetic{i:06d}", "source_uri": f"synthetic#{i}",
         "all_uris": [f"synthetic#{i}"], "text": t, "original_text": t, "body_start": 0, "char_count": len(t)}
        for i, t in enumerate(texts)
    ], schema=articles.schema)
    return frame


def bench_linking(sizes=(1000, 10000)) -> None:
    from flows.link import entities as ent
    from flows.link import stories
    from flows.extract.batch import extract_batch

    extract_batch(recombined_corpus(60, seed=1))  # warm-up: every language's dictionaries and gazetteers
    for n in sizes:
        frame = recombined_corpus(n)
        t0 = time.perf_counter()
        parts = [extract_batch(frame.slice(i, 500)) for i in range(0, n, 500)]
        extraction = time.perf_counter() - t0
        merged = {k: pl.concat([p[k] for p in parts]) for k in parts[0]}
        t1 = time.perf_counter()
        _, _, mentions, _ = ent.resolve(merged["mentions"], merged["entity_edges"], {})
        t2 = time.perf_counter()
        per_article: dict[str, set] = {}
        for aid, eid in mentions.select("article_id", "entity_id").iter_rows():
            per_article.setdefault(aid, set()).add(eid)
        story_of = stories.group_stories(per_article)
        t3 = time.perf_counter()
        claims = merged["claims"].with_columns(
            pl.col("article_id").replace_strict(story_of, default=None).alias("story_id")
        ).drop_nulls("story_id")
        ments = mentions.select("sentence_id", "entity_id")
        anchors: dict[str, set] = {}
        by_sentence: dict[str, set] = {}
        for sid, eid in ments.iter_rows():
            by_sentence.setdefault(sid, set()).add(f"E:{eid}")
        for q in merged["quantities"].select("sentence_id", "unit", "value").iter_rows():
            by_sentence.setdefault(q[0], set()).add(f"Q:{q[1]}:{q[2]:g}")
        for cid, sid in claims.select("claim_id", "sentence_id").iter_rows():
            anchors[cid] = by_sentence.get(sid, set())
        texts = dict(claims.select("claim_id", "text").iter_rows())
        clusters = stories.cluster_claims(claims, anchors, texts)
        t4 = time.perf_counter()
        linking = t4 - t1
        print(f"linking {n} articles ({claims.height} claims): entities {t2 - t1:.2f} s, stories {t3 - t2:.2f} s, "
              f"claim clusters {t4 - t3:.2f} s, total {linking:.2f} s = {n / linking:.0f} articles/s "
              f"(extraction before it: {n / extraction:.0f} articles/s); {len(set(story_of.values()))} stories, "
              f"{clusters['cluster_id'].n_unique()} clusters")


def bench_incremental(n: int = 1000, added: int = 10) -> None:
    """A folder of n articles: a full run, then `added` new files, then the same folder again."""
    import tempfile
    from pathlib import Path

    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="newsflow-bench-"))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.pipeline import run_curate

    base = Path(tempfile.mkdtemp(prefix="newsflow-incremental-"))
    folder = base / "articles"
    folder.mkdir()
    corpus = recombined_corpus(n + added, seed=7)
    for i, text in enumerate(corpus["text"][:n]):
        (folder / f"a{i:06d}.txt").write_text(text)
    warehouse = str(base / "w.duckdb")
    runs = [("full", run_curate(source=str(folder), warehouse=warehouse))]
    for i, text in enumerate(corpus["text"][n:], start=n):
        (folder / f"a{i:06d}.txt").write_text(text)
    runs.append((f"+{added} articles", run_curate(source=str(folder), warehouse=warehouse)))
    runs.append(("unchanged", run_curate(source=str(folder), warehouse=warehouse)))
    for label, s in runs:
        t = s["timings"]
        print(f"incremental, {label:>13}: {s['status']:>9}, {s['articles_extracted']:>5} of {s['articles_in']} "
              f"articles extracted, {sum(t.values()):.1f} s in stages (extract {t.get('extract', 0):.1f}, "
              f"link {t.get('link', 0):.1f}, audit {t.get('audit', 0):.1f})")


if __name__ == "__main__":
    import sys

    if "linking" in sys.argv[1:]:
        bench_linking()
    elif "extraction" in sys.argv[1:]:
        main()
    elif "incremental" in sys.argv[1:]:
        bench_incremental()
    else:
        main()
        bench_linking()
        bench_incremental()
