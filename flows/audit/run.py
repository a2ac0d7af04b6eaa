"""Audit the staging tables with Great Expectations before anything is published.

Suites live as JSON in expectations/, one per staged table. Each expectation's `meta.severity` says
what a failure does:
  critical    the run is blocked: nothing is published, the curated tables stay as they were
  quarantine  the failing rows (by the suite's `meta.key`) move to audit.quarantine with the
              expectation that caught them; their neighbours are published
  warning     recorded in audit.results only
GX is imported here and only here: it costs seconds to import.
"""
from __future__ import annotations

import json
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.config import EXPECTATIONS_DIR

SEVERITIES = ("critical", "quarantine", "warning")

RESULT_SCHEMA = {
    "suite": pl.String,
    "table_name": pl.String,
    "expectation": pl.String,
    "description": pl.String,
    "severity": pl.String,
    "success": pl.Boolean,
    "unexpected_count": pl.Int32,
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


class SuiteError(ValueError):
    """A suite file that cannot be used as written."""


@dataclass
class AuditOutcome:
    results: pl.DataFrame      # one row per expectation evaluated
    quarantine: pl.DataFrame   # one row per (row, expectation) that failed a quarantine expectation

    @property
    def critical_failures(self) -> pl.DataFrame:
        return self.results.filter(pl.col("severity") == "critical", ~pl.col("success"))

    @property
    def passed(self) -> bool:
        return self.critical_failures.height == 0


def load_suite_files(directory: Path = EXPECTATIONS_DIR) -> list[dict]:
    """Every suite JSON, checked for what the audit relies on (GX would silently drop a bad expectation)."""
    suites = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise SuiteError(f"{path.name}: not valid JSON ({exc})") from exc
        meta = data.get("meta", {})
        if not data.get("name") or not meta.get("table") or not meta.get("key"):
            raise SuiteError(f"{path.name}: a suite needs name, meta.table and meta.key")
        for i, exp in enumerate(data.get("expectations", [])):
            severity = exp.get("meta", {}).get("severity")
            if severity not in SEVERITIES:
                raise SuiteError(f"{path.name}: expectation {i} ({exp.get('type')}) needs meta.severity in {SEVERITIES}")
        suites.append(data)
    if not suites:
        raise SuiteError(f"no expectation suites in {directory}")
    return suites


def _gx_suite(gx, data: dict):
    # each expectation carries its position so results map back to the suite file's entry
    expectations = [
        {**e, "meta": {**e.get("meta", {}), "index": i}} for i, e in enumerate(data["expectations"])
    ]
    suite = gx.ExpectationSuite(name=data["name"], expectations=expectations, meta=data.get("meta", {}))
    if len(suite.expectations) != len(data["expectations"]):
        raise SuiteError(f"suite {data['name']}: GX rejected {len(data['expectations']) - len(suite.expectations)} expectation(s)")
    return suite


def _failing_keys(result: dict, key: str) -> list[str]:
    """Primary keys of the rows an expectation flagged."""
    res = result.get("result") or {}
    keys = []
    for item in res.get("unexpected_index_list") or []:
        if isinstance(item, dict) and key in item:
            keys.append(item[key])
    for row in (res.get("details") or {}).get("unexpected_rows") or []:
        if isinstance(row, dict):
            keys.append(row.get(key, next(iter(row.values()), None)))
        elif isinstance(row, (list, tuple)) and row:
            keys.append(row[0])
    return [str(k) for k in keys if k is not None]


def run_audit(warehouse_path: Path, suites: list[dict] | None = None, docs_dir: Path | None = None,
              run_name: str | None = None) -> AuditOutcome:
    """Validate staging.* in the DuckDB file with GX; the file must not be open elsewhere in this process.

    With `docs_dir`, this run's results are also rendered as Data Docs there (readable offline).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # GX imports deprecated stdlib modules
        import great_expectations as gx
    from great_expectations.checkpoint import Checkpoint
    from great_expectations.core.run_identifier import RunIdentifier

    from flows.audit import gx_duckdb

    gx_duckdb.install()
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # duckdb-engine cannot name DuckDB's LIST type for SQLAlchemy; no expectation reads those columns
    warnings.filterwarnings("ignore", message="Did not recognize type", module="duckdb_engine")
    warnings.filterwarnings("ignore", message="`schema_name` is deprecated", category=DeprecationWarning)
    suites = suites if suites is not None else load_suite_files()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir is not None:
        from flows.audit import data_docs

        site = data_docs.add_site(context, Path(docs_dir).resolve())
    source = context.data_sources.add_sql(name="warehouse", connection_string=f"duckdb:///{warehouse_path}")
    checkpoints = []
    for data in suites:
        table, key = data["meta"]["table"], data["meta"]["key"]
        asset = source.add_table_asset(name=table, table_name=table, schema_name="staging")
        batch = asset.add_batch_definition_whole_table(f"{table}_all")
        suite = context.suites.add(_gx_suite(gx, data))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"audit_{table}", data=batch, suite=suite)
        )
        # one checkpoint per table: the row key that identifies failing rows differs per table
        checkpoints.append((data, context.checkpoints.add(Checkpoint(
            name=f"newsflow_audit_{table}",
            validation_definitions=[definition],
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [key]},
        ))))
    try:
        results, quarantine = [], []
        for data, checkpoint in checkpoints:
            for validation in checkpoint.run(run_id=RunIdentifier(run_name=run_name)).run_results.values():
                for er in validation.results:
                    _collect(data, er.to_json_dict(), results, quarantine)
    finally:
        _release()
    if docs_dir is not None:
        try:
            context.build_data_docs(site_names=[site])
            data_docs.make_offline(Path(docs_dir).resolve())
        except Exception as exc:  # the pages are a view of the results: never a reason to stop a run
            logging.getLogger("newsflow").warning("Data Docs not built: %s", exc)
    return AuditOutcome(pl.DataFrame(results, schema=RESULT_SCHEMA), pl.DataFrame(quarantine, schema=QUARANTINE_SCHEMA))


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


def _collect(data: dict, r: dict, results: list, quarantine: list) -> None:
    """One expectation result -> an audit.results row, plus quarantine rows for a failed row-level check."""
    table, key = data["meta"]["table"], data["meta"]["key"]
    spec = data["expectations"][r["expectation_config"]["meta"]["index"]]
    severity = spec["meta"]["severity"]
    description = spec["meta"].get("description", spec["type"])
    error = _exception_message(r.get("exception_info"))
    if error is not None:
        severity = "critical"  # an expectation that could not run is an audit that did not happen
        description += f" (could not run: {error})"
    failing = [] if r["success"] else _failing_keys(r, key)
    stats = r.get("result") or {}
    unexpected = stats.get("unexpected_count")
    if unexpected is None and spec["type"] == "unexpected_rows_expectation":
        unexpected = stats.get("observed_value")
    results.append({
        "suite": data["name"], "table_name": table, "expectation": spec["type"],
        "description": description, "severity": severity, "success": bool(r["success"]),
        "unexpected_count": int(unexpected) if isinstance(unexpected, (int, float)) else len(failing),
        "detail": json.dumps({"kwargs": spec.get("kwargs", {}), "sample": failing[:20]}, default=str),
    })
    if severity == "quarantine":
        for record_id in dict.fromkeys(failing):
            quarantine.append({
                "stage": "audit", "table_name": table, "record_id": record_id,
                "article_id": None, "source_uri": None,
                "reason": f"failed: {description}", "expectation": spec["type"], "payload": None,
            })


def _release() -> None:
    """Close every DuckDB connection GX opened, so publish can open the file in this process.

    GX copies datasources and creates engines while it validates; they are found by type, not
    through the context, and their pools are disposed (which closes the DuckDB handles).
    """
    import gc

    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    gc.collect()
    for obj in gc.get_objects():
        if isinstance(obj, SqlAlchemyExecutionEngine) and getattr(obj, "_connection", None) is not None:
            obj._connection.invalidate()
            obj._connection = None
    for obj in gc.get_objects():
        if isinstance(obj, Engine) and obj.url.drivername.startswith("duckdb"):
            obj.dispose()
        elif isinstance(obj, Pool) and getattr(getattr(obj, "_dialect", None), "name", "") == "duckdb":
            obj.dispose()
    gc.collect()
