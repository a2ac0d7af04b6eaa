"""What a run must extract: only new or changed articles, unless the pipeline itself changed.

The warehouse keeps the last published run's per-article extraction (before quarantine) in cache.*,
with two keys: `extract_key` (code, reference data, thresholds: what extraction depends on) and
`run_key` (plus the expectation suites: what the published result depends on). A run re-extracts an
article when its text or metadata is new, and every article when `extract_key` changed; everything
corpus-wide (entities, stories, clusters) and the audit are always redone over the whole corpus, so an
incremental run publishes exactly what a full rebuild of the same inputs would.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.config import SEEDS_DIR, SQL_DIR, settings
from flows.ingest import ARTICLE_SCHEMA

INGEST_COLUMNS = [c for c in ARTICLE_SCHEMA if c != "all_uris"]
MEMBER_SCHEMA = {"article_id": pl.String, "source_uri": pl.String}


def _hash_files(digest, files) -> None:
    for path in sorted(files):
        digest.update(str(path.relative_to(path.anchor)).encode() + b"\0" + path.read_bytes() + b"\0")


def extract_key(overrides: dict | None) -> str:
    """Changes whenever extraction could give different rows: code, seeds' reference data, thresholds."""
    digest = hashlib.sha256()
    code = Path(__file__).resolve().parent
    _hash_files(digest, code.glob("*.py"))
    _hash_files(digest, SQL_DIR.glob("*.sql"))
    _hash_files(digest, (p for p in SEEDS_DIR.rglob("*") if p.is_file()
                         and "articles" not in p.relative_to(SEEDS_DIR).parts))
    digest.update(json.dumps([settings(), overrides or {}], sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


def run_key(extract: str, expectations: Path) -> str:
    digest = hashlib.sha256(extract.encode())
    _hash_files(digest, Path(expectations).glob("*.json"))
    return digest.hexdigest()[:16]


@dataclass
class Plan:
    extract: pl.DataFrame    # articles to run through extraction (ingest columns + all_uris)
    reuse: list[str]         # articles whose cached extraction is kept
    members: pl.DataFrame    # (article_id, source_uri): every input the corpus covers after this run
    unchanged: bool          # same inputs and same pipeline as the last published run: nothing to do
    reason: str              # why every article is extracted again, when it is
    skipped: pl.DataFrame    # cached articles outside the run's languages (article_id, all_uris, language)


def plan(articles: pl.DataFrame, cached: pl.DataFrame, old_members: pl.DataFrame, state: dict[str, str],
         keys: dict[str, str], full_refresh: bool, languages: list[str] | None = None) -> Plan:
    """`articles` is this run's input; `cached`/`old_members`/`state` come from cache.*.

    With `languages`, the corpus keeps only articles in those languages (new articles are filtered
    after language ID, cached ones here), so the result again equals a full rebuild.
    """
    read = articles.select("article_id", pl.col("all_uris").alias("source_uri")).explode("source_uri")
    if full_refresh:
        members = read
    else:
        # an input read again speaks for itself: its old version (if its text changed) leaves the corpus
        members = pl.concat([old_members.filter(~pl.col("source_uri").is_in(read["source_uri"].implode())), read])
    members = members.unique().sort("article_id", "source_uri")

    stale = full_refresh or state.get("extract_key") != keys["extract_key"]
    if stale:
        reason = "full refresh" if full_refresh else (
            "first run" if not state else "the pipeline changed (code, reference data or thresholds)")
        # articles no longer in the source are extracted again from the text the warehouse kept
        kept = cached.filter(pl.col("article_id").is_in(members["article_id"].implode()),
                             ~pl.col("article_id").is_in(articles["article_id"].implode()))
        extract = pl.concat([articles.select(INGEST_COLUMNS), kept.select(INGEST_COLUMNS)])
    else:
        reason = ""
        # new text, or the same text with new metadata (title, date, ...)
        extract = articles.select(INGEST_COLUMNS).join(cached.select(INGEST_COLUMNS), on=INGEST_COLUMNS,
                                                       how="anti", nulls_equal=True)
    uris = members.group_by("article_id").agg(pl.col("source_uri").sort().alias("all_uris"))
    extract = extract.join(uris, on="article_id", how="left").sort("source_uri", "article_id")
    reuse = set(members["article_id"]) - set(extract["article_id"])
    skipped = cached.filter(pl.col("article_id").is_in(list(reuse)), ~pl.col("language").is_in(languages or [])
                            ) if languages else cached.head(0)
    skipped = skipped.select("article_id", "language").join(uris, on="article_id").select("article_id", "all_uris", "language")
    members = members.filter(~pl.col("article_id").is_in(skipped["article_id"].implode()))
    reuse = sorted(reuse - set(skipped["article_id"]))
    unchanged = (not full_refresh and extract.height == 0 and state.get("run_key") == keys["run_key"]
                 and members.equals(old_members.unique().sort("article_id", "source_uri")))
    return Plan(extract, reuse, members, unchanged, reason, skipped)
