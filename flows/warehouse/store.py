"""The one home of the DuckDB connection: schema, staging loads, publish, reads.

DuckDB allows one writing process per file. Everything here opens the file, does its work in as few
statements as possible, and closes it, so the GX audit (which opens its own connection through
duckdb-engine) never meets a second handle on the file inside this process.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

from flows.config import SQL_DIR
from flows.warehouse.lock import WarehouseBusy

@dataclass(frozen=True)
class Table:
    key: str                                  # the column a quarantine row names
    order: str                                # physical order in curated.* (stable output)
    parents: tuple[tuple[str, str], ...] = () # (parent table, column): a row leaves with its parent
    per_article: bool = True                  # rows belong to one article (kept or replaced with it)


# In dependency order: parents before children.
TABLES: dict[str, Table] = {
    "articles": Table("article_id", "article_id"),
    "article_sources": Table("article_id", "article_id, source_uri", (("articles", "article_id"),)),
    "sentences": Table("sentence_id", "article_id, position", (("articles", "article_id"),)),
    "citations": Table("citation_id", "article_id, name", (("articles", "article_id"),)),
    "entities": Table("entity_id", "entity_id", per_article=False),
    "entity_aliases": Table("entity_id", "entity_id, alias, language", (("entities", "entity_id"),), per_article=False),
    "mentions": Table("mention_id", "article_id, start_char, mention_id",
                      (("sentences", "sentence_id"), ("entities", "entity_id"))),
    "entity_edges": Table("article_id", "article_id, key_a, key_b", (("articles", "article_id"),)),
    "quantities": Table("quantity_id", "article_id, start_char, quantity_id", (("sentences", "sentence_id"),)),
    "dates": Table("date_id", "article_id, start_char, date_id", (("sentences", "sentence_id"),)),
    "claims": Table("claim_id", "claim_id", (("sentences", "sentence_id"),)),
    "stories": Table("story_id", "story_id", per_article=False),
    "claim_clusters": Table("claim_id", "cluster_id, claim_id", (("claims", "claim_id"),), per_article=False),
    "contradictions": Table("contradiction_id", "contradiction_id", per_article=False),
}
STAGED_TABLES = tuple(TABLES)
# Extraction output kept in cache.* so unchanged articles are not extracted again.
CACHED_TABLES = tuple(name for name, table in TABLES.items() if table.per_article)


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
            for name in CACHED_TABLES:
                con.execute(f"CREATE TABLE IF NOT EXISTS cache.{name} AS SELECT * FROM curated.{name} LIMIT 0")
            upgraded = con.execute("""SELECT (SELECT count(*) FROM cache.state) = 0
                                             AND (SELECT count(*) FROM cache.articles) = 0""").fetchall()[0][0]
            if upgraded:
                # a warehouse from before cache.* (or never published): the curated articles are its
                # corpus; with no extract_key yet, the next run extracts them again from their text
                for name in CACHED_TABLES:
                    con.execute(f"INSERT INTO cache.{name} BY NAME SELECT * FROM curated.{name}")

    # ------------------------------------------------------------ write: staging

    def stage(self, frames: dict[str, pl.DataFrame], members: pl.DataFrame, reuse: list[str]) -> None:
        """Write the next version of every table to staging.*, in one transaction.

        Per-article tables get the cached rows of the `reuse` articles plus this run's extraction
        (`frames`); article_sources becomes `members` (article_id, source_uri): every input the corpus
        covers. Tables derived from the whole corpus start empty and are filled by later steps.
        """
        with self.connect() as con:
            con.execute("BEGIN")
            con.register("reuse", pl.DataFrame({"article_id": reuse}, schema={"article_id": pl.String}).to_arrow())
            for name, table in TABLES.items():
                con.execute(f"CREATE OR REPLACE TABLE staging.{name} AS SELECT * FROM curated.{name} LIMIT 0")
                frame = members if name == "article_sources" else frames.get(name)
                if table.per_article and name != "article_sources":
                    con.execute(f"INSERT INTO staging.{name} BY NAME SELECT * FROM cache.{name} "
                                f"WHERE article_id IN (SELECT article_id FROM reuse)")
                if frame is not None:
                    self._insert(con, name, frame)
            con.execute("COMMIT")

    @staticmethod
    def _insert(con, name: str, frame: pl.DataFrame) -> None:
        cols = [c[0] for c in con.execute(f"DESCRIBE staging.{name}").fetchall()]
        con.register("frame", frame.select([c for c in cols if c in frame.columns]).to_arrow())
        con.execute(f"INSERT INTO staging.{name} BY NAME SELECT * FROM frame")
        con.unregister("frame")

    def read_staging(self, names: tuple[str, ...] = STAGED_TABLES) -> dict[str, pl.DataFrame]:
        with self.connect(read_only=True) as con:
            # in a fixed order: the corpus-wide steps must not depend on how DuckDB scans
            return {name: con.sql(f"SELECT * FROM staging.{name} ORDER BY {TABLES[name].order}").pl() for name in names}

    def write_staging(self, frames: dict[str, pl.DataFrame]) -> None:
        """Replace whole staging tables (the corpus-wide steps write their results this way)."""
        with self.connect() as con:
            con.execute("BEGIN")
            for name, frame in frames.items():
                con.execute(f"DELETE FROM staging.{name}")
                self._insert(con, name, frame)
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
            for name, table in TABLES.items():
                article = "t.article_id" if table.per_article else "NULL"
                con.execute(
                    f"""UPDATE audit.quarantine q
                        SET article_id = {article}, payload = to_json(t)
                        FROM staging.{name} t
                        WHERE q.run_id = ? AND q.stage = 'audit' AND q.table_name = ?
                          AND q.record_id = CAST(t.{table.key} AS VARCHAR)""",
                    [run_id, name],
                )
            con.execute(
                """UPDATE audit.quarantine q SET source_uri = a.source_uri
                   FROM staging.articles a
                   WHERE q.run_id = ? AND q.stage = 'audit' AND q.article_id = a.article_id""",
                [run_id],
            )
            con.execute("COMMIT")

    # ------------------------------------------------------------ publish

    def publish(self, run_id: str, state: dict[str, str] | None = None,
                skipped: pl.DataFrame | None = None) -> dict[str, int]:
        """Swap the audited staging tables into curated.* in one transaction (write-audit-publish).

        Rows this run quarantined stay out, with everything that hangs off them. Readers see the
        previous complete version until COMMIT; a failure or a kill before it changes nothing.
        The same transaction saves this run's extraction (before quarantine) and `state` in cache.*.
        """
        with self.connect() as con:
            con.execute("BEGIN")
            try:
                counts = self._publish(con, run_id)
                for name in CACHED_TABLES:
                    con.execute(f"CREATE OR REPLACE TABLE cache.{name} AS SELECT * FROM staging.{name}")
                for key, value in (state or {}).items():
                    con.execute("INSERT OR REPLACE INTO cache.state VALUES (?, ?)", [key, value])
                con.execute("DELETE FROM cache.skipped")
                if skipped is not None and skipped.height:
                    con.register("skipped", skipped.select("article_id", "language").to_arrow())
                    con.execute("INSERT INTO cache.skipped SELECT article_id, language FROM skipped")
                con.execute("COMMIT")
            except BaseException:
                try:
                    con.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # the failed COMMIT already ended the transaction; keep the original error
                raise
        return counts

    @staticmethod
    def _publish(con, run_id: str) -> dict[str, int]:
        for name, table in TABLES.items():  # parents first, so cascades see their final parents
            con.execute(f"CREATE OR REPLACE TEMP TABLE good_{name} AS SELECT * FROM staging.{name}")
            con.execute(
                f"DELETE FROM good_{name} WHERE CAST({table.key} AS VARCHAR) IN (SELECT record_id FROM audit.quarantine "
                f"WHERE run_id = ? AND stage = 'audit' AND table_name = ?)",
                [run_id, name],
            )
            for parent, col in table.parents:
                con.execute(f"DELETE FROM good_{name} WHERE {col} IS NOT NULL AND {col} NOT IN (SELECT {col} FROM good_{parent})")
        for name, table in TABLES.items():
            con.execute(f"DELETE FROM curated.{name}")
            con.execute(f"INSERT INTO curated.{name} SELECT * FROM good_{name} ORDER BY {table.order}")
        return {name: con.execute(f"SELECT count(*) FROM good_{name}").fetchall()[0][0] for name in TABLES}

    # ------------------------------------------------------------ run log and reads

    def log_run(self, row: dict) -> None:
        row = {**row, "timings": json.dumps(row.get("timings", {}))}
        with self.connect() as con:
            con.register("r", pl.DataFrame([row]).to_arrow())
            con.execute("INSERT INTO audit.runs BY NAME SELECT * FROM r")

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=params or None).pl()
