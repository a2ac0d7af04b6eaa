"""Benchmarks (`make bench`): extraction throughput on the seeds repeated to 1,000 articles, one core.

Prints articles per second for the whole process-batch step (language ID, sentences, citations,
claims, entities, dates, quantities) and for each part, after one warm-up batch that loads the
models and gazetteers. Not a test: speed targets live here, not in timed unit tests.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("POLARS_MAX_THREADS", "1")

from contextlib import contextmanager  # noqa: E402

import polars as pl  # noqa: E402

from flows.extract import attribution, dates, ingest, langid, mentions, quantities, segment  # noqa: E402
from flows.extract.batch import extract_batch  # noqa: E402
from flows.warehouse.tables import TABLES  # noqa: E402
from tests.conftest import SEEDS  # noqa: E402

N = int(os.environ.get("BENCH_ARTICLES", "1000"))

# The steps extract_batch and link call, timed where production calls them (module attributes are
# wrapped for the benchmark only): the figures are the production path's, not a re-implementation's.
EXTRACTION_STEPS = {
    "language id (articles)": (langid, "identify_articles"),
    "sentences": (segment, "segment"),
    "language id (sentences)": (langid, "identify_sentences"),
    "attribution": (attribution, "own_sources"),
    "citations": (attribution, "extract_citations"),
    "claims": (attribution, "extract_claims"),
    "entities": (mentions, "extract_mentions"),
    "dates": (dates, "extract_dates"),
    "quantities": (quantities, "extract_quantities"),
}


@contextmanager
def timing(steps: dict, timings: dict):
    saved = {label: getattr(module, name) for label, (module, name) in steps.items()}

    def wrap(label, fn):
        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timings[label] = timings.get(label, 0.0) + time.perf_counter() - t0

        return timed

    for label, (module, name) in steps.items():
        setattr(module, name, wrap(label, saved[label]))
    try:
        yield timings
    finally:
        for label, (module, name) in steps.items():
            setattr(module, name, saved[label])


def corpus(n: int) -> pl.DataFrame:
    seeds, _ = ingest.read_files(sorted(SEEDS.glob("*.txt")))
    reps = (n + seeds.height - 1) // seeds.height
    frame = pl.concat([seeds] * reps).head(n)
    return frame.with_columns((pl.col("article_id") + "-" + pl.int_range(pl.len()).cast(pl.String)).alias("article_id"))


def main() -> None:
    frame = corpus(N)
    extract_batch(frame.head(5))  # warm-up: load fastText, CLDR, GeoNames
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with timing(EXTRACTION_STEPS, timings):
        for i in range(0, frame.height, 200):
            extract_batch(frame.slice(i, 200))
    total = time.perf_counter() - t0
    print(
        f"extraction (extract_batch) on {frame.height} articles (seeds repeated), one core: {total:.2f} s, "
        f"{frame.height / total:.0f} articles/s"
    )
    for label, seconds in timings.items():
        print(f"  {label:26} {seconds:6.2f} s  {frame.height / seconds:8.0f} articles/s")


def recombined_corpus(n: int, seed: int = 7) -> pl.DataFrame:
    """n articles made by recombining the sentences of real articles (seeds and fixtures) of one language."""
    import random

    from tests.conftest import FIXTURES

    paths = sorted(SEEDS.glob("*.txt")) + [
        p for p in sorted(FIXTURES.iterdir()) if p.suffix in (".txt", ".md", ".jsonl")
    ]
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
    frame = pl.DataFrame(
        [
            {
                **{c: None for c in articles.columns},
                "article_id": f"synthetic{i:06d}",
                "source_uri": f"synthetic#{i}",
                "all_uris": [f"synthetic#{i}"],
                "text": t,
                "original_text": t,
                "body_start": 0,
                "char_count": len(t),
            }
            for i, t in enumerate(texts)
        ],
        schema=articles.schema,
    )
    return frame


def bench_linking(sizes=(1000, 10000)) -> None:
    """flows.link.corpus.link (the link task's function) on recombined real articles, extracted by extract_batch."""
    from flows.link import corpus as linking
    from flows.link import embeddings

    steps = {
        "entities": (linking, "resolve_entities"),
        "stories and claims": (linking, "link_stories"),
        "outlets": (linking, "outlets"),
    }
    extract_batch(recombined_corpus(60, seed=1))  # warm-up: every language's dictionaries and gazetteers
    for n in sizes:
        frame = recombined_corpus(n)
        t0 = time.perf_counter()
        parts = [extract_batch(frame.slice(i, 500)) for i in range(0, n, 500)]
        extraction = time.perf_counter() - t0
        # as the link task reads them: staging's full columns (e.g. claims.entity_ids, NULL until linking)
        staged = {k: TABLES[k].staged(pl.concat([p[k] for p in parts])) for k in linking.INPUTS}
        timings: dict[str, float] = {}
        t1 = time.perf_counter()
        embeddings.forget_recent()
        with timing(steps, timings):
            linked = linking.link(staged)  # no cached embeddings: every vector is computed
        total = time.perf_counter() - t1
        parts_text = ", ".join(f"{label} {seconds:.2f} s" for label, seconds in timings.items())
        print(
            f"linking {n} articles ({staged['claims'].height} claims): {parts_text}, total {total:.2f} s = "
            f"{n / total:.0f} articles/s (extraction before it: {n / extraction:.0f} articles/s); "
            f"{linked['stories'].height} stories, {linked['claim_clusters'].height} clusters"
        )


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
        print(
            f"incremental, {label:>13}: {s['status']:>9}, {s['articles_extracted']:>5} of {s['articles_in']} "
            f"articles extracted, {sum(t.values()):.1f} s in stages (extract {t.get('extract', 0):.1f}, "
            f"link {t.get('link', 0):.1f}, audit {t.get('audit', 0):.1f})"
        )


def bench_huge(sizes=(475_000, 950_000, 1_900_000)) -> None:
    """One run-on "sentence" dense with names, numbers and dates (tests/test_hostile.py's), at growing
    sizes: extraction time must grow linearly (sentences are capped at [segment] max_sentence_chars)."""
    from tests.test_hostile import HUGE_UNIT

    extract_batch(corpus(5))  # warm-up
    for size in sizes:
        text = "A very long report\n\n" + HUGE_UNIT * (size // len(HUGE_UNIT)) + "end."
        frame = corpus(1).with_columns(pl.lit(text).alias("text"), pl.lit(0).alias("body_start"))
        t0 = time.perf_counter()
        out = extract_batch(frame)
        seconds = time.perf_counter() - t0
        print(
            f"run-on article of {len(text):,} characters: {seconds:.1f} s ({len(text) / seconds / 1000:.0f} kchar/s), "
            f"{out['sentences'].height} sentences, {out['mentions'].height} mentions"
        )


if __name__ == "__main__":
    import sys

    if "linking" in sys.argv[1:]:
        bench_linking()
    elif "extraction" in sys.argv[1:]:
        main()
    elif "incremental" in sys.argv[1:]:
        bench_incremental()
    elif "huge" in sys.argv[1:]:
        bench_huge()
    else:
        main()
        bench_linking()
        bench_incremental()
