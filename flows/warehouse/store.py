"""The one home of the DuckDB connection: schema, staging loads, publish, reads.

DuckDB allows one writing process per file. Everything here opens the file, does its work in as few
statements as possible, and closes it, so the GX audit (which opens its own connection through
duckdb-engine) never meets a second handle on the file inside this process. A reader in another
process (a BI tool, `newsflow sql`) may hold the file for a moment: connections wait for it with a
bounded back-off (`[warehouse] lock_wait_seconds`) instead of failing the run.

Table shapes come from flows/warehouse/tables.py: curated.* carries the constraints (primary keys, NOT
NULL, CHECKs) as a second line behind the audit, so a row that escaped it makes publish fail (and the
previous version stay) rather than be published.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from flows.config import SQL_DIR, setting
from flows.warehouse.lock import WarehouseBusy
from flows.warehouse.tables import CACHED_TABLES, STAGED_TABLES, TABLES, Table

# A connection that can neither write the warehouse nor touch any other file or the network: for
# `newsflow sql`, the audit's checks and anything else that runs SQL a user or a suite wrote.
SANDBOX = {"enable_external_access": False, "lock_configuration": True}


class PublishRefused(RuntimeError):
    """Publish found staging different from what the audit passed: nothing was published."""


class NotAWarehouse(ValueError):
    """The warehouse a run was given is not a DuckDB file and cannot become one (a usage error)."""


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def check_target(path: str | Path) -> None:
    """NotAWarehouse (one line) unless `path` is a DuckDB file, or a file a run can create: a folder, an
    empty or foreign file, or a path under a file would fail every warehouse task (and their retries)."""
    path = Path(path)
    if path.is_dir():
        raise NotAWarehouse(f"warehouse {str(path)!r} is a folder, not a DuckDB file")
    if path.exists():
        try:
            with open(path, "rb") as fh:
                head = fh.read(12)
        except OSError as exc:
            raise NotAWarehouse(f"warehouse {str(path)!r} cannot be read: {exc.strerror or exc}") from exc
        if head[8:12] != DUCKDB_MAGIC:
            raise NotAWarehouse(f"warehouse {str(path)!r} is not a DuckDB file; name a new file or a DuckDB file")
        return
    ancestor = next((p for p in path.absolute().parents if p.exists()), None)
    if ancestor is not None and not ancestor.is_dir():
        raise NotAWarehouse(f"warehouse {str(path)!r} cannot be created: {str(ancestor)!r} is a file, not a folder")


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text or "held" in text)


class Warehouse:
    def __init__(self, path: str | Path):
        self.path = Path(path)

    # ------------------------------------------------------------ connections

    @contextmanager
    def connect(
        self, read_only: bool = False, sandbox: bool = False, wait_seconds: float | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection; waits (bounded back-off) while another process holds the file: `wait_seconds`,
        by default `[warehouse] lock_wait_seconds`."""
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        config = dict(SANDBOX) if sandbox else {}
        wait = float(setting("warehouse", "lock_wait_seconds") if wait_seconds is None else wait_seconds)
        deadline = time.monotonic() + wait
        pause = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=config)
                break
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"warehouse {self.path} is held by another process (a run or a reader) for more than "
                        f"{wait:g} s; try again when it is free"
                    ) from exc
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        try:
            yield con
        finally:
            con.close()

    def initialise(self, language_codes: list[tuple[str, str]]) -> None:
        """Create schemas and tables, bring older warehouses to the current contracts, load reference data."""
        with self.connect() as con:
            con.execute((SQL_DIR / "schema.sql").read_text())
            con.execute("BEGIN")
            for table in TABLES.values():
                self._conform(con, table, "curated", constrained=True)
                if table.per_article:
                    self._conform(con, table, "cache", constrained=False)
            con.execute("DELETE FROM ref.languages")
            con.register("langs", pl.DataFrame(language_codes, schema=["code", "name"], orient="row").to_arrow())
            con.execute("INSERT INTO ref.languages SELECT * FROM langs")
            con.execute((SQL_DIR / "views.sql").read_text())
            upgraded = con.execute("""SELECT (SELECT count(*) FROM cache.state) = 0
                                             AND (SELECT count(*) FROM cache.articles) = 0""").fetchall()[0][0]
            if upgraded:
                # a warehouse from before cache.* (or never published): the curated articles are its
                # corpus; with no extract_key yet, the next run extracts them again from their text
                for name in CACHED_TABLES:
                    con.execute(f"INSERT INTO cache.{name} BY NAME SELECT * FROM curated.{name}")
            con.execute("COMMIT")

    @staticmethod
    def _conform(con, table: Table, schema: str, constrained: bool) -> None:
        """Create `schema.table` from its contract, or rebuild it when an older release made it otherwise.

        Rows an older, unconstrained curated table holds that break a constraint are not carried
        over: they go to audit.quarantine (stage 'upgrade') with the reason.
        """
        ddl = table.ddl(f"{schema}.{table.name}", constrained)
        signature = hashlib.sha256(ddl.encode()).hexdigest()[:16]
        known = con.execute(
            "SELECT signature FROM cache.contracts WHERE table_name = ?", [f"{schema}.{table.name}"]
        ).fetchall()
        exists = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, table.name]
        ).fetchall()[0][0]
        if exists and known and known[0][0] == signature:
            return
        if not exists:
            con.execute(ddl)
        else:
            old_cols = {r[0] for r in con.execute(f"DESCRIBE {schema}.{table.name}").fetchall()}
            select = ", ".join(c.name if c.name in old_cols else f"NULL::{c.type} AS {c.name}" for c in table.columns)
            con.execute(f"CREATE OR REPLACE TEMP TABLE conform_old AS SELECT {select} FROM {schema}.{table.name}")
            if constrained:
                Warehouse._hold_back_violations(con, table)
            con.execute(f"DROP TABLE {schema}.{table.name}")
            con.execute(ddl)
            con.execute(f"INSERT INTO {schema}.{table.name} SELECT * FROM conform_old ORDER BY {table.order}")
            con.execute("DROP TABLE conform_old")
        con.execute("INSERT OR REPLACE INTO cache.contracts VALUES (?, ?)", [f"{schema}.{table.name}", signature])

    @staticmethod
    def _hold_back_violations(con, table: Table) -> None:
        tests = [f"{c} IS NULL" for c in sorted(table.required)] + [f"NOT coalesce(({c}), true)" for c in table.checks]
        pk = ", ".join(table.primary_key)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE conform_bad AS
            SELECT * FROM (SELECT t.*, row_number() OVER (PARTITION BY {pk} ORDER BY {table.order}) AS dup_n
                           FROM conform_old t)
            WHERE dup_n > 1 OR {" OR ".join(tests)}""")
        con.execute(f"""INSERT INTO audit.quarantine BY NAME
            SELECT 'upgrade' AS run_id, 'upgrade' AS stage, '{table.name}' AS table_name,
                   CAST({table.key} AS VARCHAR) AS record_id,
                   {"article_id" if "article_id" in table.column_names else "NULL"} AS article_id,
                   'published by an earlier release; breaks a constraint of curated.{table.name}' AS reason,
                   to_json(t) AS payload
            FROM conform_bad t""")
        con.execute(f"""DELETE FROM conform_old WHERE rowid IN (
            SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY {pk} ORDER BY {table.order}) AS dup_n,
                                      * FROM conform_old) WHERE dup_n > 1 OR {" OR ".join(tests)})""")

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
                con.execute("DROP TABLE IF EXISTS staging." + name)
                con.execute(table.ddl(f"staging.{name}", constrained=False))
                frame = members if name == "article_sources" else frames.get(name)
                if table.per_article and name != "article_sources":
                    con.execute(
                        f"INSERT INTO staging.{name} BY NAME SELECT * FROM cache.{name} "
                        f"WHERE article_id IN (SELECT article_id FROM reuse)"
                    )
                if frame is not None:
                    self._insert(con, table, frame)
            con.execute("COMMIT")

    @staticmethod
    def _insert(con, table: Table, frame: pl.DataFrame) -> None:
        table.check_frame(frame)  # a misspelt or missing column is an error, never a NULL
        con.register("frame", frame.to_arrow())
        con.execute(f"INSERT INTO staging.{table.name} BY NAME SELECT * FROM frame")
        con.unregister("frame")

    def read_staging(self, names: tuple[str, ...] = STAGED_TABLES) -> dict[str, pl.DataFrame]:
        with self.connect(read_only=True) as con:
            # in a fixed order: the corpus-wide steps must not depend on how DuckDB scans
            return {name: con.sql(f"SELECT * FROM staging.{name} ORDER BY {TABLES[name].order}").pl() for name in names}

    def read_embeddings(self) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return con.sql("SELECT key, vector FROM cache.embeddings").pl()

    def cache_embeddings(self, frame: pl.DataFrame) -> None:
        """Keep new vectors (derived data keyed by model and text: written outside publish, harmlessly)."""
        if frame.is_empty():
            return
        with self.connect() as con:
            con.register("vectors", frame.to_arrow())
            con.execute("INSERT OR IGNORE INTO cache.embeddings SELECT key, vector FROM vectors")
            con.unregister("vectors")

    def write_staging(self, frames: dict[str, pl.DataFrame]) -> None:
        """Replace whole staging tables (the corpus-wide steps write their results this way)."""
        with self.connect() as con:
            con.execute("BEGIN")
            for name, frame in frames.items():
                con.execute(f"DELETE FROM staging.{name}")
                self._insert(con, TABLES[name], frame)
            con.execute("COMMIT")

    # ------------------------------------------------------------ audit: fingerprints and quarantine

    @staticmethod
    def fingerprints_of(con) -> dict[str, list]:
        """Row count and an order-independent hash of every staged table: what the audit saw."""
        out = {}
        present = {
            r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging'").fetchall()
        }
        for name in (n for n in STAGED_TABLES if n in present):
            n, h = con.execute(f"SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM staging.{name} t").fetchall()[
                0
            ]
            out[name] = [int(n), str(h)]
        return out

    def fingerprints(self) -> dict[str, list]:
        with self.connect(read_only=True) as con:
            return self.fingerprints_of(con)

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

    def publish(
        self,
        run_id: str,
        audited: dict[str, list] | None,
        state: dict[str, str] | None = None,
        skipped: pl.DataFrame | None = None,
        run_row: dict | None = None,
    ) -> dict[str, int]:
        """Swap the audited staging tables into curated.* in one transaction (write-audit-publish).

        `audited` is what the audit saw (`fingerprints()`): if staging differs now, nothing is
        published. Rows this run quarantined stay out, with everything that hangs off them; the
        curated tables' constraints reject anything else that should not be there. Readers see the
        previous complete version until COMMIT; a failure or a kill before it changes nothing. The
        same transaction saves this run's extraction (before quarantine) and `state` in cache.*, and
        the run's row in audit.runs.
        """
        t0 = time.perf_counter()
        with self.connect() as con:
            con.execute("BEGIN")
            try:
                if audited is not None:
                    now = self.fingerprints_of(con)
                    changed = [n for n in STAGED_TABLES if now.get(n) != audited.get(n)]
                    if changed:
                        raise PublishRefused(
                            f"staging changed after the audit ({', '.join(f'staging.{n}' for n in changed)}): "
                            "nothing was published"
                        )
                counts = self._publish(con, run_id)
                for name in CACHED_TABLES:
                    con.execute(f"DELETE FROM cache.{name}")
                    con.execute(f"INSERT INTO cache.{name} BY NAME SELECT * FROM staging.{name}")
                for key, value in (state or {}).items():
                    con.execute("INSERT OR REPLACE INTO cache.state VALUES (?, ?)", [key, value])
                con.execute("DELETE FROM cache.skipped")
                if skipped is not None and skipped.height:
                    con.register("skipped", skipped.select("article_id", "language").to_arrow())
                    con.execute("INSERT INTO cache.skipped SELECT article_id, language FROM skipped")
                if run_row is not None:
                    timings = {**run_row.get("timings", {}), "publish": round(time.perf_counter() - t0, 3)}
                    self._log_run(
                        con,
                        {
                            **run_row,
                            "status": "published",
                            "timings": timings,
                            "sentences": counts["sentences"],
                            "claims": counts["claims"],
                            "citations": counts["citations"],
                        },
                    )
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
                f"DELETE FROM good_{name} WHERE CAST({table.key} AS VARCHAR) IN "
                f"(SELECT record_id FROM audit.quarantine WHERE run_id = ? AND stage = 'audit' AND table_name = ?)",
                [run_id, name],
            )
            for parent, col in table.parents:
                con.execute(
                    f"DELETE FROM good_{name} WHERE {col} IS NOT NULL "
                    f"AND {col} NOT IN (SELECT {col} FROM good_{parent})"
                )
        for name, table in TABLES.items():
            con.execute(f"DELETE FROM curated.{name}")
            con.execute(f"INSERT INTO curated.{name} SELECT * FROM good_{name} ORDER BY {table.order}")
        return {name: con.execute(f"SELECT count(*) FROM good_{name}").fetchall()[0][0] for name in TABLES}

    # ------------------------------------------------------------ run log and reads

    @staticmethod
    def _log_run(con, row: dict) -> None:
        row = {**row, "timings": json.dumps(row.get("timings", {}))}
        con.register("run_row", pl.DataFrame([row]).to_arrow())
        con.execute("INSERT INTO audit.runs BY NAME SELECT * FROM run_row")
        con.unregister("run_row")

    def log_run(self, row: dict) -> None:
        with self.connect() as con:
            self._log_run(con, row)

    def query(self, sql: str, params: list | None = None) -> pl.DataFrame:
        with self.connect(read_only=True) as con:
            return con.sql(sql, params=params or None).pl()
