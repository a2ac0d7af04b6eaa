"""Audit the staging tables before anything is published.

Suites live as JSON in expectations/ (flows/audit/suites.py), one per staged table. Each expectation's
`meta.severity` says what a failure does:
  critical    the run is blocked: nothing is published, the curated tables stay as they were
  quarantine  every failing row moves to audit.quarantine with the expectation that caught it; its
              neighbours are published
  warning     recorded in audit.results only
Which rows fail is decided in the warehouse (flows/audit/checks.py: complete, never a sample) on a
sandboxed read-only connection; Great Expectations validates every expectation too (results, Data
Docs) on a read-only, sandboxed engine, and must agree with the warehouse's count. The audit also
fingerprints every staged table, so publish can refuse a staging area that changed after the audit.
GX is imported here and only here: it costs seconds to import.
"""

from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.audit import checks
from flows.audit.suites import SuiteError, key_of, load_suite_files  # noqa: F401  (SuiteError: part of this API)
from flows.warehouse.store import SANDBOX, Warehouse

RESULT_SCHEMA = {
    "suite": pl.String,
    "table_name": pl.String,
    "expectation": pl.String,
    "description": pl.String,
    "severity": pl.String,
    "success": pl.Boolean,
    "unexpected_count": pl.Int64,
    "detail": pl.String,
}
QUARANTINE_SCHEMA = {
    "stage": pl.String,
    "table_name": pl.String,
    "record_id": pl.String,
    "article_id": pl.String,
    "source_uri": pl.String,
    "reason": pl.String,
    "expectation": pl.String,
    "payload": pl.String,
}


@dataclass
class AuditOutcome:
    results: pl.DataFrame  # one row per expectation evaluated
    quarantine: pl.DataFrame  # one row per (row, expectation) that failed a quarantine expectation
    fingerprints: dict = field(default_factory=dict)  # what the audit saw, per staged table

    @property
    def critical_failures(self) -> pl.DataFrame:
        return self.results.filter(pl.col("severity") == "critical", ~pl.col("success"))

    @property
    def passed(self) -> bool:
        return self.critical_failures.height == 0


def run_audit(
    warehouse_path: Path, suites: list[dict] | None = None, docs_dir: Path | None = None, run_name: str | None = None
) -> AuditOutcome:
    """Validate staging.* in the DuckDB file; the file must not be open for writing elsewhere in this process.

    With `docs_dir`, this run's results are also rendered as Data Docs there (readable offline).
    """
    suites = suites if suites is not None else load_suite_files()
    wh = Warehouse(warehouse_path)
    with wh.connect(read_only=True, sandbox=True) as con:
        fingerprints = wh.fingerprints_of(con)
        found = checks.evaluate(con, suites)
    validated = _validate_with_gx(Path(warehouse_path), suites, docs_dir, run_name)
    results, quarantine = [], []
    for data in suites:
        for i, spec in enumerate(data.get("expectations") or []):
            _collect(data, i, spec, found.get((data["name"], i)), validated.get((data["name"], i)), results, quarantine)
    return AuditOutcome(
        pl.DataFrame(results, schema=RESULT_SCHEMA), pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA), fingerprints
    )


def _collect(
    data: dict, index: int, spec: dict, found: checks.Found | None, gx: dict | None, results: list, quarantine: list
) -> None:
    """One expectation -> an audit.results row, plus one quarantine row per failing row it holds back."""
    table = data["meta"]["table"]
    severity = spec["meta"]["severity"]
    description = spec["meta"].get("description", spec["type"])
    problems = []
    if gx is None:
        problems.append("Great Expectations returned no result for it")
    elif gx.get("error"):
        problems.append(f"could not run: {gx['error']}")
    if found is not None and found.error:
        problems.append(f"could not run in the warehouse: {found.error}")
    if (
        found is not None
        and gx is not None
        and not problems
        and gx.get("unexpected_count") is not None
        and int(gx["unexpected_count"]) != found.count
    ):
        problems.append(
            f"Great Expectations counted {gx['unexpected_count']} failing rows, the warehouse {found.count}"
        )
    if severity == "quarantine" and found is not None and found.keyless:
        problems.append(f"{found.keyless} failing rows have no {key_of(data)}: they cannot be held back")
    if problems:
        severity = "critical"  # an expectation that could not be checked fully is an audit that did not happen
        description += " (" + "; ".join(problems) + ")"
    if found is not None:
        unexpected = found.count
        success = found.count == 0 if not gx or gx.get("success") is None else bool(gx["success"])
    else:
        unexpected = gx.get("unexpected_count") if gx else None
        success = bool(gx and gx.get("success"))
    if problems:
        success = False
    sample = found.keys[:20] if found is not None else (gx or {}).get("sample", [])[:20]
    results.append(
        {
            "suite": data["name"],
            "table_name": table,
            "expectation": spec["type"],
            "description": description,
            "severity": severity,
            "success": success,
            "unexpected_count": int(unexpected) if isinstance(unexpected, (int, float)) else None,
            "detail": json.dumps({"kwargs": spec.get("kwargs", {}), "sample": sample}, default=str),
        }
    )
    if severity == "quarantine" and found is not None:
        reason = f"failed: {description}"
        quarantine.extend(
            {
                "stage": "audit",
                "table_name": table,
                "record_id": key,
                "article_id": None,
                "source_uri": None,
                "reason": reason,
                "expectation": spec["type"],
                "payload": None,
            }
            for key in found.keys
        )


# ---------------------------------------------------------------- Great Expectations


def import_gx():
    """great_expectations, imported (~7 s the first time in a process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # GX imports deprecated stdlib modules
        import great_expectations

    return great_expectations


def _validate_with_gx(
    warehouse_path: Path, suites: list[dict], docs_dir: Path | None, run_name: str | None
) -> dict[tuple[str, int], dict]:
    """{(suite, index): {success, unexpected_count, error}} from GX checkpoints, one per table."""
    gx = import_gx()
    from great_expectations.checkpoint import Checkpoint
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from flows.audit import gx_duckdb

    gx_duckdb.install()
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # duckdb-engine cannot name DuckDB's LIST type for SQLAlchemy; no expectation reads those columns
    warnings.filterwarnings("ignore", message="Did not recognize type", module="duckdb_engine")
    warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        from flows.audit import data_docs

        site = data_docs.add_site(context, Path(docs_dir).resolve())
    out: dict[tuple[str, int], dict] = {}
    with _DuckDBConnections():
        # read-only and sandboxed: a suite's SQL can neither change the warehouse nor reach a file
        source = context.data_sources.add_sql(
            name="warehouse",
            connection_string=f"duckdb:///{warehouse_path}",
            kwargs={"connect_args": {"read_only": True, "config": dict(SANDBOX)}},
        )
        for data in suites:
            table = data["meta"]["table"]
            asset = source.add_table_asset(name=table, table_name=table, schema_name="staging")
            batch = asset.add_batch_definition_whole_table(f"{table}_all")
            suite = context.suites.add(_gx_suite(gx, data))
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"audit_{table}", data=batch, suite=suite)
            )
            checkpoint = context.checkpoints.add(
                Checkpoint(
                    name=f"newsflow_audit_{table}",
                    validation_definitions=[definition],
                    result_format={"result_format": "SUMMARY"},  # counts; which rows fail is the warehouse's job
                )
            )
            for validation in checkpoint.run(run_id=RunIdentifier(run_name=run_name)).run_results.values():
                for er in validation.results:
                    r = er.to_json_dict()
                    out[(data["name"], r["expectation_config"]["meta"]["index"])] = _gx_outcome(data, r)
    if docs_dir is not None:
        try:
            context.build_data_docs(site_names=[site])
            data_docs.make_offline(Path(docs_dir).resolve())
        except Exception as exc:  # the pages are a view of the results: never a reason to stop a run
            logging.getLogger("newsflow").warning("Data Docs not built: %s", exc)
    return out


def _gx_suite(gx, data: dict):
    # each expectation carries its position so results map back to the suite file's entry
    expectations = [{**e, "meta": {**e.get("meta", {}), "index": i}} for i, e in enumerate(data["expectations"])]
    suite = gx.ExpectationSuite(name=data["name"], expectations=expectations, meta=data.get("meta", {}))
    if len(suite.expectations) != len(data["expectations"]):
        raise SuiteError(
            f"suite {data['name']}: GX rejected {len(data['expectations']) - len(suite.expectations)} expectation(s)"
        )
    return suite


def _gx_outcome(data: dict, r: dict) -> dict:
    stats = r.get("result") or {}
    unexpected = stats.get("unexpected_count")
    spec = data["expectations"][r["expectation_config"]["meta"]["index"]]
    if unexpected is None and spec["type"] == "unexpected_rows_expectation":
        unexpected = stats.get("observed_value")
    return {
        "success": bool(r["success"]),
        "unexpected_count": unexpected,
        "error": _exception_message(r.get("exception_info")),
        "sample": [str(v) for v in (stats.get("partial_unexpected_list") or [])],
    }


def _exception_message(info) -> str | None:
    """GX reports errors either flat or per metric: find any raised exception."""
    if not isinstance(info, dict):
        return None
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "error")
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "error")
    return None


class _DuckDBConnections:
    """Every DuckDB connection SQLAlchemy opens while GX validates, closed at the end so publish can open the
    file for writing in this process. GX copies datasources and creates engines of its own, out of reach of
    the context; a pool listener sees each connection as it is made (walking the heap for them cost seconds)."""

    def __init__(self):
        from sqlalchemy import event
        from sqlalchemy.pool import Pool

        self.records: list = []
        self._event, self._pool = event, Pool

    def __enter__(self):
        self._event.listen(self._pool, "connect", self._connected)
        return self

    def _connected(self, dbapi_connection, connection_record) -> None:
        from duckdb_engine import ConnectionWrapper

        if isinstance(dbapi_connection, ConnectionWrapper):
            self.records.append(connection_record)

    def __exit__(self, *exc) -> None:
        self._event.remove(self._pool, "connect", self._connected)
        for record in self.records:
            record.invalidate()  # closes the DuckDB handle; the pool discards the record when it comes back
        self.records.clear()
