"""The `curate` flow: check -> lock -> ingest -> plan -> extract -> stage -> link -> audit -> publish.

Write-audit-publish: everything is written to staging.*, audited, and only then moved to curated.* in
one DuckDB transaction, which refuses a staging area that changed after the audit. A refused, blocked
or failed run leaves curated.* as it was. Incremental: only new or changed articles are extracted
(flows/warehouse/incremental.py); the corpus-wide steps and the audit cover the whole corpus. One run
writes a warehouse at a time (flows/warehouse/lock.py). The heavy steps (extraction per batch,
linking) are pure functions submitted to the flow's task runner: threads by default, Dask by
configuration (flows/app/runners.py). Bookkeeping (summary, timings, the run log) is flows/app/runlog.py.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import deployment, flow_run
from prefect.states import Completed, Failed

from flows import access
from flows.app import progress, report
from flows.app.runlog import Run, RunSummary
from flows.app.runners import default_task_runner
from flows.audit.suites import SuiteError, load_suite_files
from flows.config import DEFAULT_WAREHOUSE, EXPECTATIONS_DIR, overridden, setting
from flows.extract import ingest, langid
from flows.extract.batch import extract_batch
from flows.link import corpus as linking
from flows.params import BatchSize, LanguageCode, Thresholds, check_languages
from flows.warehouse import incremental, lock
from flows.warehouse.store import NotAWarehouse, Warehouse, check_target

# Mistakes in what a run was asked to do: the run stops at once with one line, and is never retried.
USER_ERRORS = (ingest.SourceError, access.AccessRefused, SuiteError, NotAWarehouse)


class RunNotPublished(Exception):
    """The result of a run that ended Failed on purpose (refused, blocked, busy): it carries the summary."""

    def __init__(self, summary: dict):
        super().__init__(summary)
        self.summary = summary

    def __str__(self) -> str:
        return f"{self.summary['status']}: {self.summary['reason']}"


class _NoTracebackForDeliberateFailures(logging.Filter):
    """A deployment's engine logs every Failed flow run with a traceback; a run that was refused or
    blocked on purpose is not an error in the code, and its one-line reason is the state message."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], RunNotPublished):
            record.msg, record.args = f"run ended without publishing: {record.exc_info[1]}", ()
            record.exc_info, record.exc_text = None, None
        return True


logging.getLogger("prefect.flow_runs").addFilter(_NoTracebackForDeliberateFailures())


def _retry_unless_user_error(task, task_run, state) -> bool:
    try:
        state.result()
    except USER_ERRORS:
        return False
    except Exception:
        return True
    return True


# ---------------------------------------------------------------- tasks
# Warehouse tasks run in the flow's own thread, where timeouts interrupt them; their connections wait
# for a reader holding the file (flows/warehouse/store.py), and a retry covers a longer hold. The pure
# tasks run on the task runner's workers: a retry helps when a Dask worker was lost; Prefect cannot
# time out a task in a worker thread, so they declare none. Frames are never hashed into cache keys.


@task(
    name="read-articles",
    retries=1,
    retry_delay_seconds=5,
    timeout_seconds=3600,
    cache_policy=NO_CACHE,
    retry_condition_fn=_retry_unless_user_error,
)
def read_articles(source: str, roots: access.Roots | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Articles (distinct by content) and the inputs that were not taken, with reasons."""
    return ingest.read_source(source, roots)


@task(name="prepare-warehouse", retries=2, retry_delay_seconds=5, timeout_seconds=600)
def prepare(warehouse: str) -> None:
    """Create schemas and tables (idempotent), bring older warehouses to the contracts, load reference data."""
    Warehouse(warehouse).initialise([(code, code) for code in langid.known_codes()])


@task(name="plan", retries=2, retry_delay_seconds=5, cache_policy=NO_CACHE)
def plan(
    warehouse: str,
    articles: pl.DataFrame,
    rejected: pl.DataFrame,
    keys: dict[str, str],
    full_refresh: bool,
    languages: list[str] | None,
) -> incremental.Plan:
    """Which articles need extracting, given what the warehouse already holds."""
    wh = Warehouse(warehouse)
    todo = incremental.plan(
        articles,
        wh.query("SELECT article_id, content_key, source_uri, language FROM cache.articles"),
        wh.query("SELECT article_id, source_uri FROM cache.article_sources"),
        dict(wh.query("SELECT key, value FROM cache.state").iter_rows()),
        keys,
        full_refresh,
        languages,
        rejected["source_uri"].to_list(),
        wh.query("SELECT article_id, language FROM cache.skipped"),
    )
    if todo.reload:  # extract again from the text the warehouse kept
        columns = [c for c in ingest.ARTICLE_SCHEMA if c != "all_uris"]
        kept = wh.query(
            f"SELECT {', '.join(columns)} FROM cache.articles WHERE article_id IN (SELECT * FROM unnest(?))",
            [todo.reload],
        )
        uris = todo.members.group_by("article_id").agg(pl.col("source_uri").sort().alias("all_uris"))
        todo.extract = pl.concat([todo.extract, kept.join(uris, on="article_id").select(todo.extract.columns)])
    return todo


@task(name="process-batch", retries=1, cache_policy=NO_CACHE)
def process_batch(
    articles: pl.DataFrame, overrides: dict | None = None, languages: list[str] | None = None
) -> dict[str, pl.DataFrame]:
    """Language ID, segmentation and extraction for one batch (flows/extract/batch.py)."""
    with overridden(overrides):
        return extract_batch(articles, languages)


@task(name="stage", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def stage(warehouse: str, frames: dict[str, pl.DataFrame], members: pl.DataFrame, reuse: list[str]) -> None:
    Warehouse(warehouse).stage(frames, members, reuse)


@task(name="record-rejected-inputs", retries=2, retry_delay_seconds=5, timeout_seconds=600, cache_policy=NO_CACHE)
def record_rejected(warehouse: str, run_id: str, rejected: pl.DataFrame) -> None:
    from flows.audit.run import RESULT_SCHEMA

    rows = rejected.select(
        pl.lit("ingest").alias("stage"),
        pl.lit("inputs").alias("table_name"),
        pl.col("source_uri").alias("record_id"),
        pl.lit(None, pl.String).alias("article_id"),
        "source_uri",
        "reason",
        pl.lit(None, pl.String).alias("expectation"),
        pl.lit(None, pl.String).alias("payload"),
    )
    Warehouse(warehouse).record_audit(run_id, pl.DataFrame(schema=RESULT_SCHEMA), rows)


@task(name="read-staging", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def read_staging(warehouse: str) -> dict[str, pl.DataFrame]:
    wh = Warehouse(warehouse)
    return {**wh.read_staging(linking.INPUTS), "embeddings": wh.read_embeddings()}


@task(name="link", retries=1, cache_policy=NO_CACHE)
def link(staged: dict[str, pl.DataFrame], overrides: dict | None = None) -> dict[str, pl.DataFrame]:
    """Corpus-wide: entities, stories, claim clusters, contradictions (a pure function of the staged tables)."""
    with overridden(overrides):
        return linking.link(staged)


@task(name="write-links", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def write_links(warehouse: str, linked: dict[str, pl.DataFrame]) -> None:
    linked = dict(linked)
    wh = Warehouse(warehouse)
    wh.cache_embeddings(linked.pop("embeddings", pl.DataFrame()))
    wh.write_staging(linked)


@task(name="audit", retries=1, retry_delay_seconds=10, timeout_seconds=7200, cache_policy=NO_CACHE)
def audit(warehouse: str, run_id: str, suites: list[dict], docs_dir: Path | None):
    from flows.audit.run import run_audit  # imports Great Expectations: only here

    outcome = run_audit(Path(warehouse), suites, docs_dir, run_name=run_id)
    Warehouse(warehouse).record_audit(run_id, outcome.results, outcome.quarantine)
    return outcome


@task(name="publish", retries=2, retry_delay_seconds=5, timeout_seconds=3600, cache_policy=NO_CACHE)
def publish(
    warehouse: str, run_id: str, audited: dict, state: dict[str, str], skipped: pl.DataFrame, run_row: dict
) -> dict[str, int]:
    return Warehouse(warehouse).publish(run_id, audited, state, skipped, run_row)


@task(name="log-run", retries=2, retry_delay_seconds=5, timeout_seconds=600, cache_policy=NO_CACHE)
def log_run(warehouse: str, row: dict) -> None:
    Warehouse(warehouse).log_run(row)


# ---------------------------------------------------------------- the run, step by step


def _curate(
    run: Run,
    source: str,
    warehouse: str,
    full_refresh: bool,
    languages: list[str] | None,
    overrides: dict,
    batch_size: int | None,
    suites: list[dict],
    expectations: str | None,
    roots: access.Roots | None,
) -> None:
    summary = run.summary
    with run.stage("ingest"):
        articles, rejected = read_articles(source, roots)
    with run.stage("prepare"):
        prepare(warehouse)
    run.read(articles, rejected)
    if articles.height == 0:  # nothing readable: say so instead of republishing an unchanged warehouse
        run.end("blocked", f"no readable articles in {source} ({rejected.height} inputs quarantined)")
        with run.stage("record"):
            record_rejected(warehouse, summary.run_id, rejected)
        return

    keys = incremental.keys(overrides, Path(expectations or EXPECTATIONS_DIR))
    with run.stage("plan"):
        todo = plan(warehouse, articles, rejected, keys, full_refresh, languages)
    if todo.reason:
        get_run_logger().info("extracting every article: %s", todo.reason)
    if todo.unchanged:
        published = Warehouse(warehouse).query(
            "SELECT count(*) AS n FROM curated.articles WHERE article_id IN (SELECT * FROM unnest(?))",
            [articles["article_id"].to_list()],
        )["n"][0]
        run.unchanged(todo.skipped.height, published)
        with run.stage("record"):
            record_rejected(warehouse, summary.run_id, rejected)
        return

    summary.articles_extracted = todo.extract.height
    with run.stage("extract", total=todo.extract.height):
        frames = _extract(todo.extract, batch_size or setting("pipeline", "batch_size"), overrides, languages, run)
    skipped = pl.concat([todo.skipped, frames.pop("skipped")])
    rejected = run.skipped_languages(skipped, rejected, languages)
    members = todo.members.filter(~pl.col("article_id").is_in(skipped["article_id"].implode()))
    with run.stage("stage"):
        stage(warehouse, frames, members, todo.reuse)
    with run.stage("record"):
        record_rejected(warehouse, summary.run_id, rejected)
    with run.stage("link"):
        write_links(warehouse, link.submit(read_staging(warehouse), overrides).result())

    docs = _docs_dir(warehouse, summary.run_id) if setting("pipeline", "data_docs_keep") > 0 else None
    with run.stage("audit"):
        outcome = audit(warehouse, summary.run_id, suites, docs)
    if docs is not None and (docs / "index.html").exists():
        summary.data_docs = (docs / "index.html").resolve().as_uri()
    source_ids = sorted(set(articles["article_id"]) - set(skipped["article_id"]))
    run.audited(
        outcome,
        source_ids,
        Warehouse(warehouse).query(
            "SELECT table_name, record_id, source_uri, reason FROM audit.quarantine "
            "WHERE run_id = ? AND stage = 'audit' ORDER BY table_name, record_id",
            [summary.run_id],
        ),
    )
    if not outcome.passed:
        get_run_logger().warning("audit blocked publishing: %s", summary.reason)
        return
    with run.stage("publish"):
        counts = publish(warehouse, summary.run_id, outcome.fingerprints, keys, skipped, run.log_row("published"))
    run.published(counts, outcome.fingerprints)


def _batches(frame: pl.DataFrame, size: int) -> list[pl.DataFrame]:
    return [frame.slice(i, size) for i in range(0, frame.height, size)] or [frame]


def _extract(
    articles: pl.DataFrame, size: int, overrides: dict, languages: list[str] | None, run: Run
) -> dict[str, pl.DataFrame]:
    """Submit the batches to the task runner; report each as it finishes; merge in input order."""
    futures = process_batch.map(_batches(articles, size), overrides=unmapped(overrides), languages=unmapped(languages))
    index = {id(f): i for i, f in enumerate(futures)}
    parts = [None] * len(futures)
    done = 0
    # a progress bar on the run's page in the Prefect UI, beside the log lines
    bar_id = create_progress_artifact(
        0.0, key=report.PROGRESS_KEY, description=f"extracting {articles.height} articles"
    )
    for future in as_completed(futures):
        parts[index[id(future)]] = part = future.result()
        n = part["articles"].height + part["skipped"].height
        run.reporter.advance(n)
        done += n
        update_progress_artifact(bar_id, 100.0 * done / max(articles.height, 1))
    return {name: pl.concat([p[name] for p in parts], how="vertical") for name in parts[0]}


def docs_root(warehouse: str | Path) -> Path:
    """<warehouse>.docs/: every run's Data Docs site, one folder each (what `make serve` publishes over HTTP)."""
    return Path(warehouse).with_name(Path(warehouse).name + ".docs")


def _docs_dir(warehouse: str, run_id: str) -> Path:
    """<warehouse>.docs/<time>-<run>/ for this run; only the newest `data_docs_keep` runs' sites are kept."""
    root = docs_root(warehouse)
    sites = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for old in sites[: max(0, len(sites) - (setting("pipeline", "data_docs_keep") - 1))]:
        shutil.rmtree(old, ignore_errors=True)
    return root / f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{run_id}"


def _checked(source: str, warehouse: str, languages, expectations: str | None):
    """(languages, suites, roots) for a run that may start, or one of USER_ERRORS / ValueError saying why not."""
    languages = check_languages(languages, set(langid.known_codes()))
    roots = None
    if access.enforced(in_deployment=deployment.get_id() is not None):
        roots = access.configured_roots()
        access.check(roots, source, warehouse, expectations)
    ingest.resolve_source(source, roots)  # the source names something (else SourceError)
    check_target(warehouse)  # a DuckDB file, or one that can be created (else NotAWarehouse)
    suites = load_suite_files(Path(expectations)) if expectations else load_suite_files()
    return languages, suites, roots


@flow(
    name="curate",
    description="Curate multilingual news articles into audited DuckDB tables.",
    task_runner=default_task_runner(),
)
def curate(
    source: str = "seeds/articles",
    warehouse: str = str(DEFAULT_WAREHOUSE),
    full_refresh: bool = False,
    languages: list[LanguageCode] | None = None,
    thresholds: Thresholds | None = None,
    batch_size: BatchSize | None = None,
    expectations: str | None = None,
    wait_seconds: float = 0,
):
    """Curate the articles in `source` (folder, glob, file or .jsonl) into the DuckDB file `warehouse`.

    Only new or changed articles are extracted unless `full_refresh` (which also drops articles no
    longer in `source`). `languages` keeps only articles in those ISO 639 codes; `thresholds` overrides
    seeds/config.toml for this run; `expectations` names a folder of GX suites to audit with instead of
    expectations/. If another run is writing the warehouse, wait up to `wait_seconds` for it, then stop.
    """
    run_id = str(flow_run.get_id() or datetime.now(UTC).strftime("local-%Y%m%dT%H%M%S%f"))
    run = Run(
        RunSummary(run_id=run_id, status="failed", source=str(source), warehouse=str(warehouse)), progress.current()
    )
    try:
        languages, suites, roots = _checked(str(source), str(warehouse), languages, expectations)
    except (*USER_ERRORS, ValueError) as exc:  # refused before touching anything: one line, no retry
        run.end("refused", str(exc).splitlines()[0])
        get_run_logger().error("run refused: %s", run.summary.reason)
        return Failed(message=run.summary.reason, data=RunNotPublished(run.summary.to_dict()))
    overrides = (thresholds or Thresholds()).overrides()
    languages_now: dict[str, int] = {}
    try:
        with lock.writer(
            Path(warehouse),
            run_id,
            wait_seconds,
            on_wait=run.reporter.note,
            queued=lambda _: run.reporter.stage("queue", unit="s"),
        ):
            try:
                _curate(
                    run,
                    str(source),
                    str(warehouse),
                    full_refresh,
                    languages,
                    overrides,
                    batch_size,
                    suites,
                    expectations,
                    roots,
                )
                languages_now = dict(
                    Warehouse(warehouse)
                    .query("SELECT language, count(*) FROM curated.articles GROUP BY ALL")
                    .iter_rows()
                )
            except Exception as exc:
                run.end("failed", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
                raise
            finally:
                if run.summary.status != "published":  # a published run's row was written with it
                    _log_run_safely(str(warehouse), run)
    except lock.RunInProgress as exc:
        run.end("busy", str(exc))
    finally:
        report.publish_artifacts(run.summary.to_dict(), languages_now, run.quarantined, run.summary.data_docs or None)
    s = run.summary
    get_run_logger().info(
        "run %s %s: %d articles in, %d extracted, %d published",
        run_id,
        s.status,
        s.articles_in,
        s.articles_extracted,
        s.articles_published,
    )
    # the run's state in the Prefect UI says what happened; the summary travels as its result
    if s.status in ("busy", "blocked"):
        return Failed(message=s.reason, data=RunNotPublished(s.to_dict()))
    return Completed(message=s.reason or s.status, data=s.to_dict())


def _log_run_safely(warehouse: str, run: Run) -> None:
    """The run log must not hide the error that ended the run."""
    try:
        log_run(warehouse, run.log_row())
    except Exception as exc:  # e.g. the file is held by another program for longer than the wait
        get_run_logger().warning("could not write audit.runs: %s", exc)


def run_curate(flow=None, **parameters) -> dict:
    """Run the flow in this process and return its summary, whatever the run's final state.

    A refused, blocked or busy run ends Failed (so the Prefect UI shows it red) but still has a
    summary; an exception inside the run is raised here.
    """
    state = (flow or curate)(**parameters, return_state=True)
    result = state.result(raise_on_failure=False)
    if isinstance(result, RunNotPublished):
        return result.summary
    if isinstance(result, BaseException):
        raise result
    return result
