"""One run's bookkeeping: what it did (the summary users read), how long each stage took, its audit.runs row."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import polars as pl

STATUSES = ("published", "unchanged", "blocked", "busy", "refused", "failed")


@dataclass
class RunSummary:
    run_id: str
    status: str  # one of STATUSES
    source: str
    warehouse: str
    articles_in: int = 0  # distinct readable articles in the source
    articles_extracted: int = 0  # new or changed ones, extracted this run
    articles_skipped: int = 0  # in a language the run did not select
    articles_published: int = 0  # articles of the source now in curated.articles
    articles_quarantined: int = 0  # unreadable inputs + source articles the audit held back
    inputs_rejected: int = 0
    sentences: int = 0
    claims: int = 0
    claims_quarantined: int = 0  # claims held back by this run (failing an expectation, or hanging off a row that did)
    citations: int = 0
    expectations_evaluated: int = 0
    failed_expectations: list[dict] = field(default_factory=list)
    held_back: dict[str, int] = field(default_factory=dict)  # rows per table staged but not published
    reason: str = ""
    data_docs: str = ""  # index.html of this run's Great Expectations Data Docs
    corpus: dict[str, int] = field(default_factory=dict)  # rows per curated table after the run
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


class Run:
    def __init__(self, summary: RunSummary, reporter):
        self.summary, self.reporter = summary, reporter
        self.started = datetime.now(UTC).replace(tzinfo=None)
        self.outcome = None
        self.quarantined = pl.DataFrame(
            schema={"table_name": pl.String, "record_id": pl.String, "source_uri": pl.String, "reason": pl.String}
        )

    @contextmanager
    def stage(self, name: str, total: int | None = None):
        """Time a stage and show its progress."""
        t0 = time.perf_counter()
        with self.reporter.stage(name, total=total):
            yield
        self.summary.timings[name] = round(time.perf_counter() - t0, 3)

    def end(self, status: str, reason: str) -> None:
        self.summary.status, self.summary.reason = status, reason

    def _held_inputs(self, rejected: pl.DataFrame) -> None:
        """The inputs this run did not take (unreadable, or not in its languages), for the artifacts."""
        self.quarantined = rejected.select(
            pl.lit("inputs").alias("table_name"), pl.col("source_uri").alias("record_id"), "source_uri", "reason"
        )

    def read(self, articles: pl.DataFrame, rejected: pl.DataFrame) -> None:
        s = self.summary
        s.articles_in, s.inputs_rejected, s.articles_quarantined = articles.height, rejected.height, rejected.height
        self._held_inputs(rejected)

    def unchanged(self, skipped: int, published: int) -> None:
        self.end(
            "unchanged", "no new or changed articles and the same pipeline as the last published run: nothing to do"
        )
        self.summary.articles_skipped, self.summary.articles_published = skipped, published

    def skipped_languages(
        self, skipped: pl.DataFrame, rejected: pl.DataFrame, languages: list[str] | None
    ) -> pl.DataFrame:
        """Articles outside the run's languages join the inputs it did not take."""
        if not skipped.height:
            return rejected
        self.summary.articles_skipped = skipped.height
        rejected = pl.concat(
            [
                rejected,
                skipped.explode("all_uris").select(
                    pl.col("all_uris").alias("source_uri"),
                    pl.format(
                        "language '{}' not selected (languages: {})", "language", pl.lit(", ".join(languages or []))
                    ).alias("reason"),
                ),
            ]
        )
        self._held_inputs(rejected)
        return rejected

    def audited(self, outcome, source_ids: list[str], quarantine_rows: pl.DataFrame) -> None:
        """Fill the summary from the audit; the run is blocked when a critical expectation failed."""
        s = self.summary
        self.outcome = outcome
        results, quarantined = outcome.results, outcome.quarantine
        s.expectations_evaluated = results.height
        s.failed_expectations = (
            results.filter(~pl.col("success"))
            .select("table_name", "description", "severity", "unexpected_count")
            .to_dicts()
        )
        held = set(quarantined.filter(pl.col("table_name") == "articles")["record_id"])
        self._held_from_source = len(held & set(source_ids))
        self._source_ids = source_ids
        s.articles_quarantined += self._held_from_source
        self.quarantined = pl.concat([self.quarantined, quarantine_rows])
        if not outcome.passed:
            self.end(
                "blocked",
                "critical expectation failed: "
                + "; ".join(
                    f"{r['table_name']}: {r['description']}" for r in outcome.critical_failures.iter_rows(named=True)
                ),
            )

    def published(self, counts: dict[str, int], audited: dict[str, list]) -> None:
        s = self.summary
        s.status = "published"
        s.articles_published = len(self._source_ids) - self._held_from_source
        s.corpus = counts
        s.held_back = {t: audited[t][0] - n for t, n in counts.items() if audited[t][0] - n}
        s.claims_quarantined = s.held_back.get("claims", 0)
        s.sentences, s.claims, s.citations = counts["sentences"], counts["claims"], counts["citations"]

    def log_row(self, status: str | None = None) -> dict:
        s, outcome = self.summary, self.outcome
        return {
            "run_id": s.run_id,
            "started_at": self.started,
            "finished_at": datetime.now(UTC).replace(tzinfo=None),
            "source": s.source,
            "status": status or s.status,
            "reason": s.reason,
            "articles_in": s.articles_in,
            "articles_extracted": s.articles_extracted,
            "articles_skipped": s.articles_skipped,
            "articles_published": s.articles_published
            if status is None
            else len(self._source_ids) - self._held_from_source,
            "articles_quarantined": s.articles_quarantined,
            "sentences": s.sentences,
            "claims": s.claims,
            "citations": s.citations,
            "expectations_evaluated": s.expectations_evaluated,
            "expectations_failed": len(s.failed_expectations),
            "critical_failed": outcome.critical_failures.height if outcome else 0,
            "timings": s.timings,
        }
