"""The one shim Great Expectations needs to validate DuckDB tables (GX issues #10738, #11579).

GX 1.x hands a pooled SQLAlchemy connection back before reading results, which DuckDB (through
duckdb-engine) answers with "list index out of range". GX already keeps one persisted connection for
SQLite and a few others; registering DuckDB in that list makes every expectation work. Pinned GX
version; tests/test_gx_shim.py fails loudly if an upgrade changes the internals this relies on.
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


def installed() -> bool:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    return "duckdb" in engine._PERSISTED_CONNECTION_DIALECTS
