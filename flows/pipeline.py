"""The `curate` flow: ingest -> plan -> language ID -> segment -> extract -> stage -> link -> audit -> publish.

Write-audit-publish: everything is written to staging.*, audited with Great Expectations, and only
then moved to curated.* in one DuckDB transaction. A blocked or failed run leaves curated.* as it was.
Incremental: only new or changed articles are extracted (flows/incremental.py); the corpus-wide steps
and the audit always cover the whole corpus. One run writes a warehouse at a time (flows/lock.py).
The heavy steps (extraction per batch, linking) are pure functions submitted to the flow's task
runner: threads by default, Dask by configuration (flows/runners.py).
"""
from __future__ import annotations

import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run
from prefect.states import Completed, Failed

from flows.app import progress, report
from flows.extract import ingest, langid
from flows.extract.batch import extract_batch
from flows.link import corpus as linking
from flows.warehouse import incremental, lock
from flows.config import DEFAULT_WAREHOUSE, EXPECTATIONS_DIR, overridden, setting
from flows.params import BatchSize, LanguageCode, Thresholds, check_languages
from flows.app.runners import default_task_runner
from flows.warehouse.store import Warehouse


@dataclass
class RunSummary:
    run_id: str
    status: str                      # published | unchanged | blocked | busy | failed
    source: str
    warehouse: str
    articles_in: int = 0             # distinct readable articles in the source
    articles_extracted: int = 0      # new or changed ones, extracted this run
    articles_skipped: int = 0        # in a language the run did not select
    articles_published: int = 0      # articles of the source now in curated.articles
    articles_quarantined: int = 0    # unreadable inputs + source articles the audit held back
    inputs_rejected: int = 0
    sentences: int = 0
    claims: int = 0
    claims_quarantined: int = 0
    citations: int = 0
    expectations_evaluated: int = 0
    failed_expectations: list[dict] = field(default_factory=list)
    reason: str = ""
    data_docs: str = ""              # index.html of this run's Great Expectations Data Docs
    corpus: dict[str, int] = field(default_factory=dict)  # rows per curated table after the run
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


# ---------------------------------------------------------------- tasks


@task(name="read-articles", retries=1, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def read_articles(source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Articles (distinct by content) and the inputs that could not be read, with reasons."""
    return ingest.read_files(ingest.resolve_source(source))


@task(name="prepare-warehouse", retries=2, retry_delay_seconds=5, timeout_seconds=600)
def prepare(warehouse: str) -> None:
    """Create schemas and tables (idempotent) and load reference data."""
    Warehouse(warehouse).initialise([(code, code) for code in langid.known_codes()])


@task(name="plan", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def plan(warehouse: str, articles: pl.DataFrame, rejected: pl.DataFrame, keys: dict[str, str], full_refresh: bool,
         languages: list[str] | None) -> incremental.Plan:
    """Which articles need extracting, given what the warehouse already holds."""
    wh = Warehouse(warehouse)
    todo = incremental.plan(
        articles, wh.query("SELECT article_id, content_key, source_uri, language FROM cache.articles"),
        wh.query("SELECT article_id, source_uri FROM cache.article_sources"),
        dict(wh.query("SELECT key, value FROM cache.state").iter_rows()), keys, full_refresh, languages,
        rejected["source_uri"].to_list(), wh.query("SELECT article_id, language FROM cache.skipped"),
    )
    if todo.reload:  # extract again from the text the warehouse kept
        kept = wh.query(f"SELECT {', '.join(c for c in ingest.ARTICLE_SCHEMA if c != 'all_uris')} FROM cache.articles "
                        "WHERE article_id IN (SELECT * FROM unnest(?))", [todo.reload])
        uris = todo.members.group_by("article_id").agg(pl.col("source_uri").sort().alias("all_uris"))
        todo.extract = pl.concat([todo.extract, kept.join(uris, on="article_id").select(todo.extract.columns)])
    return todo


# Warehouse tasks run in the flow's own thread, where timeouts interrupt them; they retry because a
# reader (a BI tool, `newsflow sql`) may hold the DuckDB file for a moment. The pure tasks below run
# on the task runner's workers: a retry helps when a Dask worker was lost; Prefect cannot time out a
# task in a worker thread, so they declare none. Frames are never hashed into cache keys (NO_CACHE).
# A batch is pure and deterministic.
@task(name="process-batch", retries=1, cache_policy=NO_CACHE)
def process_batch(articles: pl.DataFrame, overrides: dict | None = None,
                  languages: list[str] | None = None) -> dict[str, pl.DataFrame]:
    """Language ID, segmentation and extraction for one batch (flows/extract/batch.py)."""
    with overridden(overrides):
        return extract_batch(articles, languages)


@task(name="stage", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def stage(warehouse: str, frames: dict[str, pl.DataFrame], members: pl.DataFrame, reuse: list[str]) -> None:
    Warehouse(warehouse).stage(frames, members, reuse)


@task(name="record-rejected-inputs", retries=2, retry_delay_seconds=5, timeout_seconds=600, cache_policy=NO_CACHE)
def record_rejected(warehouse: str, run_id: str, rejected: pl.DataFrame) -> None:
    from flows.audit.run import RESULT_SCHEMA

    wh = Warehouse(warehouse)
    rows = rejected.select(
        pl.lit("ingest").alias("stage"), pl.lit("inputs").alias("table_name"),
        pl.col("source_uri").alias("record_id"), pl.lit(None, pl.String).alias("article_id"),
        "source_uri", "reason", pl.lit(None, pl.String).alias("expectation"), pl.lit(None, pl.String).alias("payload"),
    )
    wh.record_audit(run_id, pl.DataFrame(schema=RESULT_SCHEMA), rows)


@task(name="read-staging", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def read_staging(warehouse: str) -> dict[str, pl.DataFrame]:
    return Warehouse(warehouse).read_staging(linking.INPUTS)


@task(name="link", retries=1, cache_policy=NO_CACHE)
def link(staged: dict[str, pl.DataFrame], overrides: dict | None = None) -> dict[str, pl.DataFrame]:
    """Corpus-wide: entities, stories, claim clusters, contradictions (a pure function of the staged tables)."""
    with overridden(overrides):
        return linking.link(staged)


@task(name="write-links", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def write_links(warehouse: str, linked: dict[str, pl.DataFrame]) -> None:
    Warehouse(warehouse).write_staging(linked)


@task(name="audit", retries=1, retry_delay_seconds=10, timeout_seconds=7200, cache_policy=NO_CACHE)
def audit(warehouse: str, run_id: str, expectations: str | None, docs_dir: Path | None):
    from flows.audit.run import load_suite_files, run_audit  # imports Great Expectations: only here

    suites = load_suite_files(Path(expectations)) if expectations else None
    outcome = run_audit(Path(warehouse), suites, docs_dir, run_name=run_id)
    Warehouse(warehouse).record_audit(run_id, outcome.results, outcome.quarantine)
    return outcome


def _docs_dir(warehouse: str, run_id: str) -> Path:
    """<warehouse>.docs/<time>-<run>/ for this run; only the newest `data_docs_keep` runs' sites are kept."""
    root = Path(warehouse).with_name(Path(warehouse).name + ".docs")
    sites = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for old in sites[:max(0, len(sites) - (setting("pipeline", "data_docs_keep") - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    return root / f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{run_id}"


@task(name="publish", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def publish(warehouse: str, run_id: str, state: dict[str, str], skipped: pl.DataFrame) -> dict[str, int]:
    return Warehouse(warehouse).publish(run_id, state, skipped)


@task(name="log-run", retries=2, retry_delay_seconds=5, timeout_seconds=600, cache_policy=NO_CACHE)
def log_run(warehouse: str, row: dict) -> None:
    Warehouse(warehouse).log_run(row)


# ---------------------------------------------------------------- flow


def _batches(frame: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    return [frame.slice(i, size) for i in range(0, frame.height, size)] or [frame]


def _merge(parts: list[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    return {name: pl.concat([p[name] for p in parts], how="vertical") for name in parts[0]}


def _extract(articles: pl.DataFrame, size: int, overrides: dict, languages: list[str] | None,
             reporter: progress.Reporter) -> dict[str, pl.DataFrame]:
    """Submit the batches to the task runner; report each as it finishes (inside the caller's progress
    stage); merge in input order."""
    futures = process_batch.map(_batches(articles, size), overrides=unmapped(overrides), languages=unmapped(languages))
    index = {id(f): i for i, f in enumerate(futures)}
    parts = [None] * len(futures)
    done = 0
    # a progress bar on the run's page in the Prefect UI, beside the log lines
    bar_id = create_progress_artifact(0.0, key=report.PROGRESS_KEY, description=f"extracting {articles.height} articles")
    for future in as_completed(futures):
        parts[index[id(future)]] = part = future.result()
        n = part["articles"].height + part["skipped"].height
        reporter.advance(n)
        done += n
        update_progress_artifact(bar_id, 100.0 * done / max(articles.height, 1))
    return _merge(parts)


class _Run:
    """One run's bookkeeping: the summary, stage timings, and the run log row."""

    def __init__(self, summary: RunSummary, reporter: progress.Reporter):
        self.summary, self.reporter = summary, reporter
        self.started = datetime.now(timezone.utc).replace(tzinfo=None)
        self.outcome = None
        self.quarantined = pl.DataFrame(schema={"table_name": pl.String, "record_id": pl.String,
                                                "source_uri": pl.String, "reason": pl.String})

    def held_inputs(self, rejected: pl.DataFrame) -> None:
        """The inputs this run did not take (unreadable, or not in its languages), for the artifacts."""
        self.quarantined = rejected.select(pl.lit("inputs").alias("table_name"), pl.col("source_uri").alias("record_id"),
                                           "source_uri", "reason")

    def timed(self, name: str, fn, total: int | None = None):
        t0 = time.perf_counter()
        with self.reporter.stage(name, total=total):
            value = fn()
        self.summary.timings[name] = round(time.perf_counter() - t0, 3)
        return value

    def log_row(self) -> dict:
        s, outcome = self.summary, self.outcome
        return {
            "run_id": s.run_id, "started_at": self.started,
            "finished_at": datetime.now(timezone.utc).replace(tzinfo=None),
            "source": s.source, "status": s.status, "reason": s.reason,
            "articles_in": s.articles_in, "articles_extracted": s.articles_extracted, "articles_skipped": s.articles_skipped,
            "articles_published": s.articles_published, "articles_quarantined": s.articles_quarantined,
            "sentences": s.sentences, "claims": s.claims, "citations": s.citations,
            "expectations_evaluated": s.expectations_evaluated, "expectations_failed": len(s.failed_expectations),
            "critical_failed": outcome.critical_failures.height if outcome else 0, "timings": s.timings,
        }


def _apply_audit(run: _Run, outcome, source_ids: list[str], warehouse: str, state: dict[str, str],
                 skipped: pl.DataFrame) -> None:
    """Publish when no critical expectation failed; fill the summary either way."""
    summary = run.summary
    run.outcome = outcome
    results, quarantined = outcome.results, outcome.quarantine
    summary.expectations_evaluated = results.height
    summary.failed_expectations = results.filter(~pl.col("success")).select(
        "table_name", "description", "severity", "unexpected_count"
    ).to_dicts()
    held = set(quarantined.filter(pl.col("table_name") == "articles")["record_id"])
    held_from_source = len(held & set(source_ids))
    summary.articles_quarantined += held_from_source
    summary.claims_quarantined = quarantined.filter(pl.col("table_name") == "claims")["record_id"].n_unique()
    run.quarantined = pl.concat([run.quarantined, Warehouse(warehouse).query(
        "SELECT table_name, record_id, source_uri, reason FROM audit.quarantine WHERE run_id = ? AND stage = 'audit' "
        "ORDER BY table_name, record_id", [summary.run_id])])
    if not outcome.passed:
        summary.status = "blocked"
        summary.reason = "critical expectation failed: " + "; ".join(
            f"{r['table_name']}: {r['description']}" for r in outcome.critical_failures.iter_rows(named=True)
        )
        get_run_logger().warning("audit blocked publishing: %s", summary.reason)
        return
    counts = run.timed("publish", lambda: publish(warehouse, summary.run_id, state, skipped))
    summary.status = "published"
    summary.articles_published = len(source_ids) - held_from_source
    summary.corpus = counts
    summary.sentences, summary.claims, summary.citations = counts["sentences"], counts["claims"], counts["citations"]


def _curate(run: _Run, source: str, warehouse: str, full_refresh: bool, languages: list[str] | None,
            overrides: dict, batch_size: int | None, expectations: str | None) -> None:
    summary, logger = run.summary, get_run_logger()
    articles, rejected = run.timed("ingest", lambda: read_articles(source))
    run.timed("prepare", lambda: prepare(warehouse))
    summary.articles_in, summary.inputs_rejected = articles.height, rejected.height
    summary.articles_quarantined = rejected.height
    run.held_inputs(rejected)
    if articles.height == 0:
        # nothing readable: say so instead of republishing an unchanged warehouse
        summary.status = "blocked"
        summary.reason = f"no readable articles in {source} ({rejected.height} inputs quarantined)"
        run.timed("record", lambda: record_rejected(warehouse, summary.run_id, rejected))
        return
    keys = incremental.keys(overrides, Path(expectations or EXPECTATIONS_DIR))
    todo = run.timed("plan", lambda: plan(warehouse, articles, rejected, keys, full_refresh, languages))
    if todo.reason:
        logger.info("extracting every article: %s", todo.reason)
    if todo.unchanged:
        summary.status = "unchanged"
        summary.articles_skipped = todo.skipped.height
        summary.reason = "no new or changed articles and the same pipeline as the last published run: nothing to do"
        summary.articles_published = Warehouse(warehouse).query(
            "SELECT count(*) AS n FROM curated.articles WHERE article_id IN (SELECT * FROM unnest(?))",
            [articles["article_id"].to_list()])["n"][0]
        run.timed("record", lambda: record_rejected(warehouse, summary.run_id, rejected))
        return
    summary.articles_extracted = todo.extract.height
    size = batch_size or setting("pipeline", "batch_size")
    frames = run.timed("extract", lambda: _extract(todo.extract, size, overrides, languages, run.reporter),
                       total=todo.extract.height)
    skipped = pl.concat([todo.skipped, frames.pop("skipped")])
    members = todo.members.filter(~pl.col("article_id").is_in(skipped["article_id"].implode()))
    if skipped.height:
        summary.articles_skipped = skipped.height
        rejected = pl.concat([rejected, skipped.explode("all_uris").select(
            pl.col("all_uris").alias("source_uri"),
            pl.format("language '{}' not selected (languages: {})", "language", pl.lit(", ".join(languages))).alias("reason"),
        )])
        run.held_inputs(rejected)
    run.timed("stage", lambda: stage(warehouse, frames, members, todo.reuse))
    run.timed("record", lambda: record_rejected(warehouse, summary.run_id, rejected))

    def link_corpus():
        linked = link.submit(read_staging(warehouse), overrides).result()
        write_links(warehouse, linked)

    run.timed("link", link_corpus)
    docs = _docs_dir(warehouse, summary.run_id) if setting("pipeline", "data_docs_keep") > 0 else None
    outcome = run.timed("audit", lambda: audit(warehouse, summary.run_id, expectations, docs))
    if docs is not None and (docs / "index.html").exists():
        summary.data_docs = (docs / "index.html").resolve().as_uri()
    source_ids = sorted(set(articles["article_id"]) - set(skipped["article_id"]))
    _apply_audit(run, outcome, source_ids, warehouse, keys, skipped)


@flow(name="curate", description="Curate multilingual news articles into audited DuckDB tables.",
      task_runner=default_task_runner())
def curate(
    source: str = "seeds/articles",
    warehouse: str = str(DEFAULT_WAREHOUSE),
    full_refresh: bool = False,
    languages: list[LanguageCode] | None = None,
    thresholds: Thresholds | None = None,
    batch_size: BatchSize | None = None,
    expectations: str | None = None,
    wait_seconds: float = 0,
) -> dict:
    """Curate the articles in `source` (folder, glob, file or .jsonl) into the DuckDB file `warehouse`.

    Only new or changed articles are extracted unless `full_refresh` (which also drops articles no
    longer in `source`). `languages` keeps only articles in those ISO 639 codes; `thresholds` overrides
    seeds/config.toml for this run; `expectations` names a folder of GX suites to audit with instead of
    expectations/. If another run is writing the warehouse, wait up to `wait_seconds` for it, then stop.
    """
    languages = check_languages(languages, set(langid.known_codes()))
    overrides = (thresholds or Thresholds()).overrides()
    run_id = str(flow_run.get_id() or datetime.now(timezone.utc).strftime("local-%Y%m%dT%H%M%S%f"))
    summary = RunSummary(run_id=run_id, status="failed", source=str(source), warehouse=str(warehouse))
    run = _Run(summary, progress.current())
    languages_now: dict[str, int] = {}
    try:
        with lock.writer(Path(warehouse), run_id, wait_seconds, on_wait=run.reporter.note,
                         queued=lambda _: run.reporter.stage("queue", unit="s")):
            try:
                _curate(run, source, warehouse, full_refresh, languages, overrides, batch_size, expectations)
                languages_now = dict(Warehouse(warehouse).query(
                    "SELECT language, count(*) FROM curated.articles GROUP BY ALL").iter_rows())
            except Exception as exc:
                summary.status, summary.reason = "failed", f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
                raise
            finally:
                _log_run_safely(warehouse, run)
    except lock.RunInProgress as exc:
        summary.status, summary.reason = "busy", str(exc)
    finally:
        report.publish_artifacts(summary.to_dict(), languages_now, run.quarantined, summary.data_docs or None)
    get_run_logger().info("run %s %s: %d articles in, %d extracted, %d published", run_id, summary.status,
                          summary.articles_in, summary.articles_extracted, summary.articles_published)
    # the run's state in the Prefect UI says what happened; the summary travels as its result
    if summary.status in ("busy", "blocked"):
        return Failed(message=summary.reason, data=summary.to_dict())
    return Completed(message=summary.reason or summary.status, data=summary.to_dict())


def _log_run_safely(warehouse: str, run: _Run) -> None:
    """The run log must not hide the error that ended the run."""
    try:
        log_run(warehouse, run.log_row())
    except Exception as exc:  # e.g. the file is held by another program right now
        get_run_logger().warning("could not write audit.runs: %s", exc)


def run_curate(flow=None, **parameters) -> dict:
    """Run the flow in this process and return its summary, whatever the run's final state.

    A blocked or busy run ends Failed (so the Prefect UI shows it red) but still has a summary; an
    exception inside the run is raised here.
    """
    state = (flow or curate)(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, BaseException):
        raise result
    return result

