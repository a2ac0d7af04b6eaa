"""Every query in sql/examples.sql runs on the seeds' warehouse and returns rows (the README points new
users at them: one that fails or comes back empty is the first thing they would meet)."""

import re

import duckdb
import pytest

from tests.conftest import ROOT


def statements() -> list[str]:
    text = re.sub(r"--[^\n]*", "", (ROOT / "sql" / "examples.sql").read_text())
    return [s.strip() for s in text.split(";") if s.strip()]


# queries whose answer on the seeds is legitimately empty (nothing was held back, nothing flagged)
MAY_BE_EMPTY = ("audit.latest_quarantine", "WHERE NOT success", "len(language_flags) > 0")


@pytest.mark.parametrize("sql", statements(), ids=lambda s: " ".join(s.split())[:60])
def test_example_query_runs_on_the_seeds(seed_run, sql):
    con = duckdb.connect(str(seed_run[1]), read_only=True)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    assert rows or any(marker in sql for marker in MAY_BE_EMPTY), sql


def test_the_first_example_titles_the_seed_articles_that_have_a_headline(seed_run):
    con = duckdb.connect(str(seed_run[1]), read_only=True)
    try:
        titled = con.execute("SELECT count(*) FROM curated.article_overview WHERE title IS NOT NULL").fetchone()[0]
    finally:
        con.close()
    assert titled >= 2  # the English and Swedish seeds open with a headline block
