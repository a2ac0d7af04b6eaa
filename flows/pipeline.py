"""The `curate` flow: ingest -> language ID -> segment -> extract -> stage -> audit -> publish.

Write-audit-publish: everything is written to staging.*, audited with Great Expectations, and only
then moved to curated.* in one DuckDB transaction. A blocked or failed run leaves curated.* as it was.
Heavy steps are pure functions over batches of articles, mapped as Prefect tasks.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.runtime import flow_run

from flows import attribution, dates, entities, ingest, langid, linking, quantities, segment
from flows.config import DEFAULT_WAREHOUSE, setting
from flows.warehouse import Warehouse


@dataclass
class RunSummary:
    run_id: str
    status: str                      # published | blocked
    source: str
    warehouse: str
    articles_in: int = 0
    articles_published: int = 0
    articles_quarantined: int = 0
    inputs_rejected: int = 0
    sentences: int = 0
    claims: int = 0
    claims_quarantined: int = 0
    citations: int = 0
    expectations_evaluated: int = 0
    failed_expectations: list[dict] = field(default_factory=list)
    reason: str = ""
    corpus: dict[str, int] = field(default_factory=dict)  # rows per curated table after the run
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- tasks


@task(name="read-articles")
def read_articles(source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Articles (distinct by content) and the inputs that could not be read, with reasons."""
    return ingest.read_files(ingest.resolve_source(source))


@task(name="process-batch")
def process_batch(articles: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Language ID, segmentation and first extraction for one batch of articles (a pure function)."""
    articles = langid.identify_articles(articles)
    sentences = langid.identify_sentences(segment.segment(articles))
    articles = langid.flag_articles(articles, sentences)
    sources = attribution.own_sources(articles, sentences)
    citations = attribution.extract_citations(articles, sentences, sources)
    claims = attribution.extract_claims(articles, sentences, citations, sources)
    mentions, edges = entities.extract_mentions(articles, sentences, claims)
    found_dates = dates.extract_dates(articles, sentences)
    found_quantities = quantities.extract_quantities(articles, sentences, found_dates)
    return {"articles": articles, "sentences": sentences, "citations": citations, "claims": claims,
            "mentions": mentions, "entity_edges": edges, "dates": found_dates, "quantities": found_quantities}


@task(name="stage", retries=2, retry_delay_seconds=2)
def stage(warehouse: str, frames: dict[str, pl.DataFrame], full_refresh: bool) -> None:
    Warehouse(warehouse).stage(frames, full_refresh=full_refresh)


@task(name="prepare-warehouse", retries=2, retry_delay_seconds=2)
def prepare(warehouse: str) -> None:
    """Create schemas and tables (idempotent) and load reference data."""
    Warehouse(warehouse).initialise([(code, code) for code in langid.known_codes()])


@task(name="record-rejected-inputs", retries=2, retry_delay_seconds=2)
def record_rejected(warehouse: str, run_id: str, rejected: pl.DataFrame) -> None:
    from flows.audit import RESULT_SCHEMA

    wh = Warehouse(warehouse)
    rows = rejected.select(
        pl.lit("ingest").alias("stage"), pl.lit("inputs").alias("table_name"),
        pl.col("source_uri").alias("record_id"), pl.lit(None, pl.String).alias("article_id"),
        "source_uri", "reason", pl.lit(None, pl.String).alias("expectation"), pl.lit(None, pl.String).alias("payload"),
    )
    wh.record_audit(run_id, pl.DataFrame(schema=RESULT_SCHEMA), rows)


@task(name="link", retries=1)
def link(warehouse: str) -> dict[str, int]:
    """Corpus-wide: one entity per real-world thing; claims and citations point at entities."""
    wh = Warehouse(warehouse)
    return {**linking.resolve_entities(wh), **linking.link_stories(wh)}


@task(name="audit")
def audit(warehouse: str, run_id: str, expectations: str | None):
    from flows.audit import load_suite_files, run_audit  # imports Great Expectations: only here

    suites = load_suite_files(Path(expectations)) if expectations else None
    outcome = run_audit(Path(warehouse), suites)
    Warehouse(warehouse).record_audit(run_id, outcome.results, outcome.quarantine)
    return outcome


@task(name="publish", retries=2, retry_delay_seconds=2)
def publish(warehouse: str, run_id: str) -> dict[str, int]:
    return Warehouse(warehouse).publish(run_id)


# ---------------------------------------------------------------- flow


def _batches(frame: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    return [frame.slice(i, size) for i in range(0, frame.height, size)] or [frame]


def _apply_audit(summary: RunSummary, outcome, articles: pl.DataFrame, warehouse: str, timed, logger) -> None:
    """Publish when no critical expectation failed; fill the summary either way."""
    results, quarantined = outcome.results, outcome.quarantine
    summary.expectations_evaluated = results.height
    summary.failed_expectations = results.filter(~pl.col("success")).select(
        "table_name", "description", "severity", "unexpected_count"
    ).to_dicts()
    held = set(quarantined.filter(pl.col("table_name") == "articles")["record_id"])
    new_held = articles.filter(pl.col("article_id").is_in(list(held))).height
    summary.articles_quarantined += new_held
    summary.claims_quarantined = quarantined.filter(pl.col("table_name") == "claims")["record_id"].n_unique()
    if not outcome.passed:
        summary.status = "blocked"
        summary.reason = "critical expectation failed: " + "; ".join(
            f"{r['table_name']}: {r['description']}" for r in outcome.critical_failures.iter_rows(named=True)
        )
        logger.warning("audit blocked publishing: %s", summary.reason)
        return
    counts = timed("publish", lambda: publish(warehouse, summary.run_id))
    summary.status = "published"
    summary.articles_published = articles.height - new_held
    summary.corpus = counts
    summary.sentences, summary.claims, summary.citations = counts["sentences"], counts["claims"], counts["citations"]


def _merge(parts: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    return {name: pl.concat([p[name] for p in parts], how="vertical") for name in parts[0]}


@flow(name="curate", description="Curate multilingual news articles into audited DuckDB tables.")
def curate(
    source: str = "seeds/articles",
    warehouse: str = str(DEFAULT_WAREHOUSE),
    full_refresh: bool = False,
    batch_size: int | None = None,
    expectations: str | None = None,
) -> dict:
    """Run the pipeline on `source` (folder, glob, file or .jsonl) into the DuckDB file `warehouse`.

    `expectations` names a folder of GX suite JSON files to audit with instead of expectations/.
    """
    logger = get_run_logger()
    run_id = flow_run.get_id() or datetime.now(timezone.utc).strftime("local-%Y%m%dT%H%M%S%f")
    started = datetime.now(timezone.utc).replace(tzinfo=None)
    timings: dict[str, float] = {}
    summary = RunSummary(run_id=str(run_id), status="failed", source=str(source), warehouse=str(warehouse))

    def timed(stage_name, fn):
        t0 = time.perf_counter()
        value = fn()
        timings[stage_name] = round(time.perf_counter() - t0, 3)
        return value

    articles, rejected = timed("ingest", lambda: read_articles(source))
    timed("prepare", lambda: prepare(warehouse))
    summary.articles_in, summary.inputs_rejected = articles.height, rejected.height
    summary.articles_quarantined = rejected.height
    if articles.height == 0:
        # nothing new to audit: say so instead of republishing an unchanged warehouse
        summary.status = "blocked"
        summary.reason = f"no readable articles in {source} ({rejected.height} inputs quarantined)"
        timed("record", lambda: record_rejected(warehouse, summary.run_id, rejected))
        outcome = None
    else:
        size = batch_size or setting("pipeline", "batch_size")
        frames = timed("process", lambda: _merge(
            [f.result() for f in process_batch.map(_batches(articles, size))]
        ))
        frames["article_sources"] = articles.select(
            "article_id", pl.col("all_uris").alias("source_uri")
        ).explode("source_uri")
        timed("stage", lambda: stage(warehouse, frames, full_refresh))
        timed("record", lambda: record_rejected(warehouse, summary.run_id, rejected))
        timed("link", lambda: link(warehouse))
        outcome = timed("audit", lambda: audit(warehouse, summary.run_id, expectations))
        _apply_audit(summary, outcome, articles, warehouse, timed, logger)
    summary.timings = timings
    Warehouse(warehouse).log_run({
        "run_id": summary.run_id, "started_at": started,
        "finished_at": datetime.now(timezone.utc).replace(tzinfo=None),
        "source": summary.source, "status": summary.status, "reason": summary.reason,
        "articles_in": summary.articles_in, "articles_published": summary.articles_published,
        "articles_quarantined": summary.articles_quarantined, "sentences": summary.sentences,
        "claims": summary.claims, "citations": summary.citations,
        "expectations_evaluated": summary.expectations_evaluated,
        "expectations_failed": len(summary.failed_expectations),
        "critical_failed": outcome.critical_failures.height if outcome else 0, "timings": timings,
    })
    logger.info("run %s %s: %d articles in, %d published", summary.run_id, summary.status,
                summary.articles_in, summary.articles_published)
    return summary.to_dict()
