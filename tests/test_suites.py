"""Suites are data: what the audit refuses to load, and a hostile suite cannot touch the warehouse."""

import json
import shutil

import pytest

from flows.audit.suites import SuiteError, check_query, load_suite_files
from tests.conftest import ROOT, SEEDS


@pytest.mark.parametrize(
    "query, why",
    [
        (
            "SELECT claim_id FROM {batch} WHERE false) t; DELETE FROM curated.claims; SELECT * FROM (SELECT 1 AS article_id",
            "exactly one SELECT",
        ),
        ("DELETE FROM staging.claims", "exactly one SELECT"),
        ("SELECT * FROM read_text('/etc/shadow')", "it calls read_text()"),
        ("SELECT * FROM {batch} c JOIN read_csv('/etc/passwd') p ON true", "it calls read_csv()"),
        ("SELECT * FROM glob('/root/*')", "it calls glob()"),
        ("SELECT * FROM curated.claims", "not curated.claims"),
        ("SELECT * FROM other.main.claims", "not other.main.claims"),
        ("SELECT claim_id FROM {batch} WHERE", "does not parse"),
    ],
)
def test_unsafe_queries_are_refused(query, why):
    with pytest.raises(SuiteError, match=why.replace("(", r"\(").replace(")", r"\)")):
        check_query(query, "claims")


def test_ordinary_queries_pass():
    check_query(
        "WITH x AS (SELECT * FROM {batch}) SELECT x.claim_id FROM x JOIN staging.sentences s USING "
        "(sentence_id) WHERE s.kind IN (SELECT unnest(['caption']))",
        "claims",
    )
    assert len(load_suite_files()) >= 10  # the project's own suites all load


def _suite_dir(tmp_path, change) -> str:
    folder = tmp_path / "suites"
    shutil.copytree(ROOT / "expectations", folder)
    data = json.loads((folder / "claims.json").read_text())
    change(data)
    (folder / "claims.json").write_text(json.dumps(data))
    return str(folder)


@pytest.mark.parametrize(
    "expectation, why",
    [
        (
            {
                "type": "expect_column_values_to_match_strftime_format",
                "kwargs": {"column": "text", "strftime_format": "%Y"},
                "meta": {"severity": "quarantine"},
            },
            "must find every failing row",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "source_name", "mostly": 0.9},
                "meta": {"severity": "quarantine"},
            },
            "mostly",
        ),
        (
            {
                "type": "expect_column_values_to_not_be_null",
                "kwargs": {"column": "source_name"},
                "meta": {"severity": "fatal"},
            },
            "meta.severity",
        ),
    ],
)
def test_suites_the_audit_cannot_honour_are_refused(tmp_path, expectation, why):
    folder = _suite_dir(tmp_path, lambda d: d["expectations"].append(expectation))
    with pytest.raises(SuiteError, match=why):
        load_suite_files(__import__("pathlib").Path(folder))


def test_a_stacked_statement_suite_is_refused_and_changes_nothing(seed_run, tmp_path):
    from flows.pipeline import run_curate
    from flows.warehouse.store import Warehouse

    warehouse = tmp_path / "w.duckdb"
    shutil.copy(seed_run[1], warehouse)
    before = Warehouse(warehouse).query("SELECT count(*) AS n FROM curated.claims")["n"][0]
    stacked = (
        "SELECT claim_id FROM {batch} WHERE false) t; DELETE FROM curated.claims; SELECT * FROM (SELECT 1 AS article_id"
    )
    folder = _suite_dir(
        tmp_path,
        lambda d: d["expectations"].append(
            {
                "type": "unexpected_rows_expectation",
                "kwargs": {"unexpected_rows_query": stacked},
                "meta": {"severity": "warning", "description": "innocent"},
            }
        ),
    )
    summary = run_curate(source=str(SEEDS), warehouse=str(warehouse), expectations=folder)
    assert summary["status"] == "refused"
    assert "exactly one SELECT" in summary["reason"]
    assert Warehouse(warehouse).query("SELECT count(*) AS n FROM curated.claims")["n"][0] == before > 0
    runs = Warehouse(warehouse).query("SELECT count(*) AS n FROM audit.runs WHERE run_id = ?", [summary["run_id"]])
    assert runs["n"][0] == 0  # a refused run touches nothing, not even the run log
