"""The DuckDB shim for Great Expectations: what it relies on in GX, and that it is needed."""

import duckdb
import pytest


@pytest.fixture()
def tiny_db(tmp_path):
    path = tmp_path / "tiny.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE SCHEMA staging; CREATE TABLE staging.stories AS SELECT * FROM (VALUES ('a', 1), ('b', NULL), ('c', 3)) v(story_id, articles)"
    )
    con.close()
    return path


def test_gx_internals_the_shim_relies_on_exist():
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    assert isinstance(engine._PERSISTED_CONNECTION_DIALECTS, tuple)
    from flows.audit import gx_duckdb

    gx_duckdb.install()
    gx_duckdb.install()  # idempotent
    assert gx_duckdb.installed()
    assert sum(1 for d in engine._PERSISTED_CONNECTION_DIALECTS if d == "duckdb") == 1


def test_row_level_and_sql_expectations_run_on_duckdb(tiny_db):
    from flows.audit.run import run_audit

    suite = {
        "name": "t",
        "meta": {"table": "stories"},
        "expectations": [
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "articles"},
                "meta": {"severity": "quarantine", "description": "x is set"},
            },
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": "SELECT story_id FROM {batch} WHERE articles > 2"},
                "meta": {"severity": "critical", "description": "x at most 2"},
            },
            {
                "type": "expect_column_values_to_be_unique",
                "kwargs": {"column": "story_id"},
                "meta": {"severity": "critical", "description": "ids unique"},
            },
        ],
    }
    outcome = run_audit(tiny_db, [suite])
    by_desc = {r["description"]: r for r in outcome.results.iter_rows(named=True)}
    assert by_desc["x is set"]["success"] is False and by_desc["x is set"]["unexpected_count"] == 1
    assert by_desc["x at most 2"]["success"] is False and by_desc["x at most 2"]["unexpected_count"] == 1
    assert by_desc["ids unique"]["success"] is True
    assert outcome.quarantine["record_id"].to_list() == ["b"]
    assert not outcome.passed
    # the file is free again: a plain connection in this process opens it
    duckdb.connect(str(tiny_db)).close()


def test_suite_files_are_validated(tmp_path):
    from flows.audit.suites import SuiteError, load_suite_files

    (tmp_path / "bad.json").write_text(
        '{"name": "x", "meta": {"table": "stories"}, "expectations": [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "label"}}]}'
    )
    with pytest.raises(SuiteError, match="meta.severity"):
        load_suite_files(tmp_path)
    assert {s["meta"]["table"] for s in load_suite_files()} >= {
        "articles",
        "sentences",
        "citations",
        "claims",
        "entities",
        "mentions",
    }


@pytest.mark.filterwarnings("ignore:Did not recognize type")  # LIST columns: no expectation reads their type
def test_fast_column_reflection_reads_what_duckdb_engine_reads(tmp_path):
    """The shim's catalogue query must give SQLAlchemy (and GX's column types) the very columns the shipped
    query gives: every table of a warehouse built from the schema, defaults, NOT NULL and lists included."""
    import sqlalchemy as sa

    from flows.audit import gx_duckdb
    from flows.warehouse.store import Warehouse

    path = tmp_path / "w.duckdb"
    Warehouse(path).initialise([])
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE staging.extra (a INTEGER NOT NULL DEFAULT 7, b VARCHAR[], c DOUBLE)")
    con.close()
    engine = sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})

    def reflected():
        with engine.connect() as c:
            inspector = sa.inspect(c)
            return {
                (schema, table): repr(inspector.get_columns(table, schema=schema))
                for schema in ("staging", "curated")
                for table in inspector.get_table_names(schema=schema)
            }

    gx_duckdb.install()
    shim = reflected()
    import duckdb_engine

    saved = duckdb_engine.Dialect._columns_query
    duckdb_engine.Dialect._columns_query = gx_duckdb._original["columns_query"]
    try:
        shipped = reflected()
    finally:
        duckdb_engine.Dialect._columns_query = saved
    assert len(shipped) > 10 and shim == shipped
    assert "'default': '7'" in shim[("staging", "extra")] and "'nullable': False" in shim[("staging", "extra")]
