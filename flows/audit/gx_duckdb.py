"""The shims Great Expectations needs to validate DuckDB tables (GX issues #10738, #11579), and to do it fast.

GX 1.x hands a pooled SQLAlchemy connection back before reading results, which DuckDB (through
duckdb-engine) answers with "list index out of range". GX already keeps one persisted connection for
SQLite and a few others; registering DuckDB in that list makes every expectation work.

GX reflects every table's columns; duckdb-engine does it with PostgreSQL's catalogue query, whose
correlated subqueries DuckDB's pg_catalog emulation answers in ~0.15 s a table (two seconds of every
audit). The same rows come from a plain join of pg_attribute, pg_class and pg_namespace.
Pinned GX version; tests/test_gx_shim.py fails loudly if an upgrade changes the internals this relies on.
"""

from __future__ import annotations

from enum import StrEnum


class _DuckDBDialect(StrEnum):
    # compares equal to the plain string "duckdb" that the engine reports as its dialect name
    DUCKDB = "duckdb"


def install() -> None:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    dialects = engine._PERSISTED_CONNECTION_DIALECTS
    if _DuckDBDialect.DUCKDB not in dialects:
        engine._PERSISTED_CONNECTION_DIALECTS = (*dialects, _DuckDBDialect.DUCKDB)
    import duckdb_engine

    if duckdb_engine.Dialect._columns_query is not _columns_query:
        _original["columns_query"] = duckdb_engine.Dialect._columns_query
        duckdb_engine.Dialect._columns_query = _columns_query


_original: dict = {}
# the rows PostgreSQL's reflection reads (name, format_type, default, not_null, table_name, comment, generated,
# identity_options, collation), for one schema
_COLUMNS = """
SELECT a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS format_type,
    (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid) FROM pg_catalog.pg_attrdef d
     WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef) AS "default",
    a.attnotnull AS not_null, c.relname AS table_name, NULL::VARCHAR AS comment, NULL::VARCHAR AS generated,
    NULL::VARCHAR AS identity_options, NULL::VARCHAR AS collation
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON a.attrelid = c.oid
JOIN pg_catalog.pg_namespace n ON c.relnamespace = n.oid
WHERE n.nspname = :schema AND c.relkind IN :relkinds AND a.attnum > 0 AND NOT a.attisdropped {names}
ORDER BY c.relname, a.attnum
"""


def _columns_query(self, schema, has_filter_names, scope, kind):
    from sqlalchemy import bindparam, text
    from sqlalchemy.engine.reflection import ObjectScope

    if schema is None or scope is ObjectScope.TEMPORARY:  # the search path or temporary tables: as shipped
        return _original["columns_query"](self, schema, has_filter_names, scope, kind)
    names = "AND c.relname IN :filter_names" if has_filter_names else ""
    params = [bindparam("schema", schema), bindparam("relkinds", list(self._kind_to_relkinds(kind)), expanding=True)]
    if has_filter_names:
        params.append(bindparam("filter_names", expanding=True))
    return text(_COLUMNS.format(names=names)).bindparams(*params)


def installed() -> bool:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    return "duckdb" in engine._PERSISTED_CONNECTION_DIALECTS
