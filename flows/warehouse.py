"""The one home of the DuckDB connection: schema, staging loads, publish, reads.

DuckDB allows one writing process per file. Everything here opens the file, does its work in as few
statements as possible, and closes it, so the GX audit (which opens its own connection through
duckdb-engine) never meets a second handle on the file inside this process.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from flows.config import SQL_DIR

STAGED_TABLES = ("articles", "article_sources", "sentences", "citations", "claims")
# what a quarantined row takes with it when it leaves: child table -> (parent table, join column)
CASCADE = {
    "article_sources": ("articles", "article_id"),
    "sentences": ("articles", "article_id"),
    "citations": ("articles", "article_id"),
    "claims": ("sentences", "sentence_id"),
}
KEYS = {
    "articles": "article_id",
    "article_sources": "article_id",
    "sentences": "sentence_id",
    "citations": "citation_id",
    "claims": "claim_id",
}
ORDER = {
    "articles": "article_id",
    "article_sources": "article_id, source_uri",
    "sentences": "article_id, position",
    "citations": "article_id, name",
    "claims": "claim_id",
}


class WarehouseBusy(RuntimeError):
    """Another process holds the DuckDB file."""


class Warehouse:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    # ------------------------------------------------------------ connections

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise WarehouseBusy(
                    f"warehouse {self.path} is in use by another process; wait for that run to finish"
                ) from exc
            raise
        try:
            yield con
        finally:
            con.close()

    def initialise(self, language_codes: list[tuple[str, str]]) -> None:
        """Create schemas and tables; (re)load reference data."""
        with self.connect() as con:
            con.execute((SQL_DIR / "schema.sql").read_text())
            con.execute("DELETE FROM ref.languages")
            con.register("langs", pl.DataFrame(language_codes, schema=["code", "name"], orient="row").to_arrow())
            con.execute("INSERT INTO ref.languages SELECT * FROM langs")
            con.execute((SQL_DIR / "views.sql").read_text())

    # ------------------------------------------------------------ write: staging

    def stage(self, frames: dict[str, pl.DataFrame]) -> None:
        """Replace staging.* with this run's frames (bulk, through Arrow), typed like curated.*."""
        with self.connect() as con:
            con.execute("BEGIN")
            for table in STAGED_TABLES:
                con.execute(f"CREATE OR REPLACE TABLE staging.{table} AS SELECT * FROM curated.{table} LIMIT 0")
                frame = frames[table]
                cols = [c[0] for c in con.execute(f"DESCRIBE staging.{table}").fetchall()]
                con.register("frame", frame.select([c for c in cols if c in frame.columns]).to_arrow())
                con.execute(f"INSERT INTO staging.{table} BY NAME SELECT * FROM frame")
                con.unregister("frame")
            con.execute("COMMIT")

    # ------------------------------------------------------------ audit: quarantine

    def record_audit(self, run_id: str, results: pl.DataFrame, quarantine: pl.DataFrame) -> None:
        with self.connect() as con:
            con.execute("BEGIN")
            con.register("r", results.to_arrow())
            con.execute("INSERT INTO audit.results BY NAME SELECT ? AS run_id, * FROM r", [run_id])
            con.register("q", quarantine.to_arrow())
            con.execute("INSERT INTO audit.quarantine BY NAME SELECT ? AS run_id, * FROM q", [run_id])
            # say which article and input each quarantined row came from, and keep the row itself
            for table in STAGED_TABLES:
                con.execute(
                    f"""UPDATE audit.quarantine q
                        SET article_id = t.article_id, payload = to_json(t)
                        FROM staging.{table} t
                        WHERE q.run_id = ? AND q.stage = 'audit' AND q.table_name = ?
                          AND q.record_id = CAST(t.{KEYS[table]} AS VARCHAR)""",
                    [run_id, table],
                )
            con.execute(
                """UPDATE audit.quarantine q SET source_uri = a.source_uri
                   FROM staging.articles a
                   WHERE q.run_id = ? AND q.stage = 'audit' AND q.article_id = a.article_id""",
                [run_id],
            )
            con.execute("COMMIT")

    # ------------------------------------------------------------ publish

    def publish(self, run_id: str, full_refresh: bool = False) -> dict[str, int]:
        """Move audited staging rows into curated.* in one transaction (write-audit-publish).

        Rows this run quarantined stay out, with everything hanging off them. Articles are merged by
        content: an article re-read is replaced, a source whose text changed drops its old version.
        Readers see the previous complete version until COMMIT, and a crash before it changes nothing.
        """
        with self.connect() as con:
            con.execute("BEGIN")
            try:
                counts = self._publish(con, run_id, full_refresh)
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return counts

    @staticmethod
    def _publish(con, run_id: str, full_refresh: bool) -> dict[str, int]:
        # 1. the audited rows: staging minus quarantined keys, cascading to children
        for table in STAGED_TABLES:
            con.execute(f"CREATE OR REPLACE TEMP TABLE good_{table} AS SELECT * FROM staging.{table}")
        for table in STAGED_TABLES:
            key = KEYS[table]
            con.execute(
                f"DELETE FROM good_{table} WHERE {key} IN (SELECT record_id FROM audit.quarantine "
                f"WHERE run_id = ? AND stage = 'audit' AND table_name = ?)",
                [run_id, table],
            )
            if table in CASCADE:
                parent, col = CASCADE[table]
                con.execute(f"DELETE FROM good_{table} WHERE {col} NOT IN (SELECT {col} FROM good_{parent})")
        # 2. which curated articles this run replaces
        if full_refresh:
            con.execute("CREATE OR REPLACE TEMP TABLE replaced AS SELECT article_id FROM curated.articles")
        else:
            con.execute(
                """CREATE OR REPLACE TEMP TABLE replaced AS
                   SELECT article_id FROM curated.articles
                   WHERE article_id IN (SELECT article_id FROM staging.articles)
                      OR article_id IN (SELECT article_id FROM curated.article_sources
                                        WHERE source_uri IN (SELECT source_uri FROM staging.article_sources))"""
            )
        # 3. swap them
        for table in STAGED_TABLES:
            con.execute(f"DELETE FROM curated.{table} WHERE article_id IN (SELECT article_id FROM replaced)")
            con.execute(f"INSERT INTO curated.{table} SELECT * FROM good_{table} ORDER BY {ORDER[table]}")
        counts = {
            t: con.execute(f"SELECT count(*) FROM good_{t}").fetchall()[0][0] for t in STAGED_TABLES
        }
        return counts

    # ------------------------------------------------------------ run log and reads

    def log_run(self, row: dict) -> None:
        row = {**row, "timings": json.dumps(row.get("timings", {}))}
        with self.connect() as con:
            con.register("r", pl.DataFrame([row]).to_arrow())
            con.execute("INSERT INTO audit.runs BY NAME SELECT * FROM r")

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=params or None).pl()
