"""Expectation suites: JSON files in expectations/ (Great Expectations' format), checked before use.

A suite is data, never code. Loading refuses what the audit could not honour:
  * a `meta.severity` other than critical, quarantine or warning;
  * a quarantine expectation the audit cannot compile to a complete DuckDB predicate (every failing
    row must be found, not GX's sample of them), or one with `mostly` below 1;
  * an `unexpected_rows_query` that is not exactly one SELECT over staging.* / ref.* tables (no
    stacked statements, no file or network table functions, no other catalogs).
The row key of a suite's table comes from its contract (flows/warehouse/tables.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from flows.config import EXPECTATIONS_DIR
from flows.warehouse.tables import TABLES

SEVERITIES = ("critical", "quarantine", "warning")
# table functions a suite's SQL may use; anything else (read_text, read_csv, glob, ...) is refused
ALLOWED_TABLE_FUNCTIONS = {"unnest", "range", "generate_series"}
READABLE_SCHEMAS = {"staging", "ref"}


class SuiteError(ValueError):
    """A suite file that cannot be used as written."""


def load_suite_files(directory: Path = EXPECTATIONS_DIR) -> list[dict]:
    """Every suite JSON in `directory`, validated (GX would silently drop a bad expectation)."""
    from flows.audit import checks

    suites = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise SuiteError(f"{path.name}: not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise SuiteError(f"{path.name}: a suite is a JSON object")
        meta = data.get("meta") or {}
        table = meta.get("table")
        if not data.get("name") or table not in TABLES:
            raise SuiteError(f"{path.name}: a suite needs a name and meta.table, one of {', '.join(TABLES)}")
        key = TABLES[table].key
        if meta.get("key", key) != key:
            raise SuiteError(f"{path.name}: meta.key {meta['key']!r} is not the row key of {table} ({key})")
        data["meta"] = {**meta, "key": key}
        for i, exp in enumerate(data.get("expectations") or []):
            where = f"{path.name}: expectation {i} ({exp.get('type')})"
            severity = (exp.get("meta") or {}).get("severity")
            if severity not in SEVERITIES:
                raise SuiteError(f"{where} needs meta.severity in {SEVERITIES}")
            query = (exp.get("kwargs") or {}).get("unexpected_rows_query")
            if query is not None:
                check_query(query, table, where)
            if severity == "quarantine":
                problem = checks.why_not_compilable(exp)
                if problem:
                    raise SuiteError(f"{where}: a quarantine expectation must find every failing row: {problem}")
        suites.append(data)
    if not suites:
        raise SuiteError(f"no expectation suites in {directory}")
    return suites


def key_of(suite: dict) -> str:
    """The row key of a suite's table, from its contract."""
    return TABLES[suite["meta"]["table"]].key


def batch_sql(query: str, table: str) -> str:
    """GX's `{batch}` placeholder, as the audit's own checks read it."""
    return query.replace("{batch}", f"staging.{table}")


def check_query(query: str, table: str, where: str = "query") -> None:
    """One SELECT that reads only staging.* and ref.* tables, or SuiteError."""
    if not isinstance(query, str) or not query.strip():
        raise SuiteError(f"{where}: unexpected_rows_query is empty")
    sql = batch_sql(query, table)
    # as the audit and GX run it (wrapped in an outer SELECT), and on its own: one statement either way
    for candidate in (f"SELECT * FROM ({sql}) q", sql):
        try:
            statements = duckdb.extract_statements(candidate)
        except duckdb.Error:
            continue
        if len(statements) != 1:
            raise SuiteError(
                f"{where}: unexpected_rows_query must be exactly one SELECT (it holds {len(statements)} statements)"
            )
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise SuiteError(f"{where}: unexpected_rows_query does not parse: {str(exc).splitlines()[0]}") from exc
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        kinds = ", ".join(s.type.name for s in statements)
        raise SuiteError(f"{where}: unexpected_rows_query must be exactly one SELECT (found: {kinds})")
    con = duckdb.connect(config={"enable_external_access": False})
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0])
    finally:
        con.close()
    if tree.get("error"):
        raise SuiteError(f"{where}: unexpected_rows_query does not parse: {tree.get('error_message')}")
    for node in _nodes(tree):
        kind = node.get("type")
        if kind == "TABLE_FUNCTION":
            name = (node.get("function") or {}).get("function_name", "?")
            if name.lower() not in ALLOWED_TABLE_FUNCTIONS:
                raise SuiteError(f"{where}: unexpected_rows_query may only read tables; it calls {name}()")
        elif kind == "BASE_TABLE":
            schema, catalog = node.get("schema_name") or "", node.get("catalog_name") or ""
            ctes = _cte_names(tree)
            if catalog or (schema.lower() not in READABLE_SCHEMAS and not (not schema and node["table_name"] in ctes)):
                name = ".".join(p for p in (catalog, schema, node.get("table_name")) if p)
                raise SuiteError(f"{where}: unexpected_rows_query may read only staging.* and ref.* tables, not {name}")


def _nodes(value):
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _nodes(v)
    elif isinstance(value, list):
        for v in value:
            yield from _nodes(v)


def _cte_names(tree) -> set[str]:
    names = set()
    for node in _nodes(tree):
        for entry in (node.get("cte_map") or {}).get("map") or []:
            if isinstance(entry, dict) and entry.get("key"):
                names.add(entry["key"])
    return names
