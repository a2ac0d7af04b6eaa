"""The publish gate at scale: every failing row of every quarantine expectation is held back, every good row
is published, the counts users read equal what was held back, and a row that slips past the audit makes
publish fail with the previous version intact."""

from __future__ import annotations

import json
import shutil

import duckdb
import polars as pl
import pytest

import flows.pipeline as pipeline
from flows.app import report
from flows.audit.suites import load_suite_files
from flows.pipeline import run_curate
from flows.warehouse.store import PublishRefused, Warehouse
from flows.warehouse.tables import TABLES
from tests.conftest import SEEDS

COPIES = {"claims": 6000}  # rows copied per table (others: DEFAULT_COPIES)
DEFAULT_COPIES = 400

# For each quarantine expectation (by its description): how to make a copied row break it.
# Tables marked ALL_BAD have no valid copies (a copy of a cluster row or a story cannot be right).
BREAK = {
    "every article has text": "text = NULL",
    "article language is a valid ISO 639 code": "language = 'zz'",
    "language confidence within [0, 1]": "language_confidence = 1.5",
    "body offset and length agree with the text": "body_start = -1",
    "every article belongs to a story": "story_id = 'S-none'",
    "citation kind is outlet, agency or unknown": "kind = 'rumour mill'",
    "citation evidence is a known kind": "how = 'telepathy'",
    "every clustered claim exists": "claim_id = 'no-such-claim-' || claim_id",
    "a cluster spans two or more articles, one claim per article": "cluster_id = 'Csolo-' || claim_id",
    "every claim has a source": "source_name = NULL",
    "attribution is a known kind": "attribution = 'rumour'",
    "claims come from body sentences (never a caption, source line or teaser)": "sentence_id = 'no-such-sentence'",
    "every claim's source resolves to an entity, an outlet the article cites, or the article's own outlet": "source_entity_id = NULL, source_name = 'Nobody Anywhere'",
    "contradiction kind is known": "kind = 'vibes'",
    "every contradiction says what differs": "detail = NULL",
    "a contradiction is between two existing claims of different articles": "claim_id_b = claim_id_a",
    "date precision is year, month or day": "precision = 'century'",
    "a date has a value unless it is relative with nothing to anchor it": "value = NULL, anchor = 'absolute'",
    "date offsets reproduce its surface text, inside its sentence": "start_char = start_char + 1",
    "entity type is PER, ORG, LOC or MISC": "type = 'ALIEN'",
    "every entity has a name": "name = NULL",
    "every mention points to an existing entity": "entity_id = 'E-none'",
    "mention offsets reproduce its surface text, inside its sentence": "start_char = -5",
    "every quantity has a finite value": "value = 'inf'::DOUBLE",
    "every quantity has a unit from the known set (or an ISO 4217 code)": "unit = 'furlongs'",
    "quantity offsets reproduce its surface text, inside its sentence": "end_char = end_char + 3",
    "sentence kind is one of the known kinds": "kind = 'poem'",
    "sentence offsets lie inside its article's text and reproduce the sentence": "end_char = end_char + 1000000",
    "sentence language is a valid ISO 639 code": "language = 'zz'",
    "sentence language confidence within [0, 1]": "language_confidence = -0.5",
    "every story has articles": "articles = 0",  # a copied story has no articles: every copy breaks it
    "outlet kind is outlet, agency or unknown": "kind = 'blog'",
}
ALL_BAD = {"claim_clusters", "stories", "articles"}  # articles: a copy would break the stories' article counts


def quarantine_expectations():
    return [
        (s["meta"]["table"], e["meta"]["description"])
        for s in load_suite_files()
        for e in s["expectations"]
        if e["meta"]["severity"] == "quarantine"
    ]


def test_every_quarantine_expectation_has_a_way_to_break_it():
    missing = [d for _, d in quarantine_expectations() if d not in BREAK]
    assert not missing, f"add a mutation to BREAK for: {missing}"


def _inject(warehouse: str) -> dict:
    """Copy staged rows (new keys) and break a share of the copies, one expectation per share.

    Returns {table: {"bad": {description: keys}, "good": keys}}."""
    plan: dict[str, dict] = {}
    by_table: dict[str, list[str]] = {}
    for table, description in quarantine_expectations():
        by_table.setdefault(table, []).append(description)
    con = duckdb.connect(warehouse)
    try:
        for table, descriptions in by_table.items():
            t = TABLES[table]
            key = t.key
            n = COPIES.get(table, DEFAULT_COPIES)
            cols = [c.name for c in t.columns]
            rows = con.execute(f"SELECT count(*) FROM staging.{table}").fetchall()[0][0]
            assert rows, table
            # new keys for the copies (and new names for copied citations, which must stay one per outlet)
            select = ", ".join(
                f"{c} || '~' || i AS {c}"
                if c == key
                else f"{c} || '^' || i AS {c}"
                if (table, c) == ("citations", "name")
                else c
                for c in cols
            )
            if table == "articles":  # copies must not change the stories' article counts: no story
                select = select.replace("story_id", "NULL::VARCHAR AS story_id")
            if table == "outlets":  # a copied outlet is cited nowhere (its counts must say so)
                select = select.replace("citing_articles", "0 AS citing_articles").replace(
                    "published_articles", "1 AS published_articles"
                )
            con.execute(f"""CREATE TEMP TABLE copies AS
                SELECT {select}, i FROM (SELECT *, row_number() OVER () AS rn FROM staging.{table}) t,
                     range(0, {(n + rows - 1) // rows}) r(i)
                QUALIFY row_number() OVER (ORDER BY i, rn) <= {n}""")
            shares = len(descriptions) + (0 if table in ALL_BAD else 1)
            con.execute("ALTER TABLE copies ADD COLUMN share INTEGER")
            con.execute(
                f"UPDATE copies SET share = s.n % {shares} FROM (SELECT {key} AS k, row_number() OVER "
                f"(ORDER BY {key}) AS n FROM copies) s WHERE copies.{key} = s.k"
            )
            bad: dict[str, list[str]] = {}
            for j, description in enumerate(descriptions):
                con.execute(f"UPDATE copies SET {BREAK[description]} WHERE share = {j}")
                bad[description] = [r[0] for r in con.execute(f"SELECT {key} FROM copies WHERE share = {j}").fetchall()]
            if table == "claims":  # at scale: more than 1,000 claims lack a source
                assert len(bad["every claim has a source"]) > 1000
            good = sorted(
                r[0] for r in con.execute(f"SELECT {key} FROM copies WHERE share = {len(descriptions)}").fetchall()
            )
            con.execute(f"INSERT INTO staging.{table} BY NAME SELECT * EXCLUDE (i, share) FROM copies")
            con.execute("DROP TABLE copies")
            plan[table] = {"bad": bad, "good": good}
    finally:
        con.close()
    return plan


def test_thousands_of_failing_rows_are_all_held_back(prefect_backend, tmp_path, monkeypatch):
    warehouse = str(tmp_path / "w.duckdb")
    injected = {}
    original = pipeline.write_links
    artifacts = {}

    def write_links_then_break(wh, linked):
        original(wh, linked)
        injected.update(_inject(wh))

    def capture(summary, languages, quarantined, data_docs):
        artifacts.update(summary=summary, quarantined=quarantined)

    monkeypatch.setattr(pipeline, "write_links", write_links_then_break)
    monkeypatch.setattr(report, "publish_artifacts", capture)
    summary = run_curate(source=str(SEEDS), warehouse=warehouse)
    assert summary["status"] == "published", summary["reason"]
    wh = Warehouse(warehouse)
    staged = {t: wh.query(f"SELECT count(*) AS n FROM staging.{t}")["n"][0] for t in TABLES}
    assert staged["claims"] > 5000
    held = wh.query("SELECT table_name, record_id, reason FROM audit.quarantine WHERE run_id = ?", [summary["run_id"]])
    for table, plan in injected.items():
        key = TABLES[table].key
        published = set(wh.query(f"SELECT CAST({key} AS VARCHAR) AS k FROM curated.{table}")["k"])
        for description, keys in plan["bad"].items():
            caught = set(
                held.filter(pl.col("table_name") == table, pl.col("reason") == f"failed: {description}")["record_id"]
            )
            assert set(keys) <= caught, f"{table}: {description}: {len(set(keys) - caught)} failing rows not held back"
            assert not set(keys) & published, f"{table}: {description}: failing rows published"
        assert set(plan["good"]) <= published, f"{table}: {len(set(plan['good']) - published)} good rows lost"
    # every claim without a source is out; every sourced claim of the seeds and every good copy is in
    assert wh.query("SELECT count(*) AS n FROM curated.claims WHERE source_name IS NULL")["n"][0] == 0
    originals = wh.query("SELECT count(*) AS n FROM curated.claims WHERE claim_id NOT LIKE '%~%'")["n"][0]
    assert originals == wh.query("SELECT count(*) AS n FROM cache.claims WHERE claim_id NOT LIKE '%~%'")["n"][0]
    # what users read equals what was held back
    curated = {t: wh.query(f"SELECT count(*) AS n FROM curated.{t}")["n"][0] for t in TABLES}
    assert summary["held_back"] == {t: staged[t] - curated[t] for t in TABLES if staged[t] != curated[t]}
    assert summary["claims_quarantined"] == staged["claims"] - curated["claims"] > 1000
    assert artifacts["summary"]["claims_quarantined"] == summary["claims_quarantined"]
    assert (
        artifacts["quarantined"].filter(pl.col("table_name") == "claims").height
        == held.filter(pl.col("table_name") == "claims")["record_id"].n_unique()
    )


@pytest.fixture()
def audited(seed_run, tmp_path):
    """A published seeds warehouse (a copy of the shared seed run) whose staging has just been audited
    again: (warehouse, outcome)."""
    from flows.audit.run import run_audit

    warehouse = tmp_path / "w.duckdb"
    assert seed_run[0]["status"] == "published"
    shutil.copy(seed_run[1], warehouse)
    return warehouse, run_audit(warehouse, docs_dir=None, run_name="again")


def _curated_bytes(warehouse) -> dict:
    wh = Warehouse(warehouse)
    return {t: wh.query(f"SELECT * FROM curated.{t} ORDER BY ALL").write_json() for t in TABLES}


def test_a_row_inserted_after_the_audit_makes_publish_fail(audited):
    warehouse, outcome = audited
    before = _curated_bytes(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "INSERT INTO staging.claims BY NAME SELECT * REPLACE ('sneaked-in' AS claim_id, NULL AS source_name) "
        "FROM staging.claims LIMIT 1"
    )
    con.close()
    with pytest.raises(PublishRefused, match="staging changed after the audit .*staging.claims"):
        Warehouse(warehouse).publish("again", outcome.fingerprints)
    assert _curated_bytes(warehouse) == before


def test_curated_constraints_are_the_second_line(audited):
    """Even with the fingerprint check out of the way, the curated tables refuse an unsourced claim."""
    warehouse, _ = audited
    before = _curated_bytes(warehouse)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "INSERT INTO staging.claims BY NAME SELECT * REPLACE ('sneaked-in' AS claim_id, NULL AS source_name) "
        "FROM staging.claims LIMIT 1"
    )
    con.close()
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL constraint failed: claims.source_name"):
        Warehouse(warehouse).publish("again", None)
    assert _curated_bytes(warehouse) == before
    # and a duplicate key
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM staging.claims WHERE claim_id = 'sneaked-in'")
    con.execute("INSERT INTO staging.claims SELECT * FROM staging.claims LIMIT 1")
    con.close()
    with pytest.raises(duckdb.ConstraintException, match="PRIMARY KEY"):
        Warehouse(warehouse).publish("again", None)
    assert _curated_bytes(warehouse) == before


def test_an_older_warehouse_is_brought_to_the_contracts(tmp_path):
    """A curated table an earlier release built without constraints is rebuilt; rows that break them are
    held back in audit.quarantine instead of blocking every later run."""
    warehouse = tmp_path / "old.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("CREATE SCHEMA curated")
    con.execute(
        "CREATE TABLE curated.claims (claim_id VARCHAR, article_id VARCHAR, sentence_id VARCHAR, text VARCHAR,"
        " source_name VARCHAR, attribution VARCHAR)"
    )
    con.execute(
        "INSERT INTO curated.claims VALUES ('c1', 'a', 'a-s1', 'Fine.', 'Reuters', 'according_to'),"
        " ('c2', 'a', 'a-s2', 'Leaked.', NULL, 'inherited')"
    )
    con.close()
    Warehouse(warehouse).initialise([("en", "en")])
    wh = Warehouse(warehouse)
    assert wh.query("SELECT claim_id FROM curated.claims")["claim_id"].to_list() == ["c1"]
    q = wh.query("SELECT stage, record_id, reason, payload FROM audit.quarantine")
    assert q.row(0)[:2] == ("upgrade", "c2") and "constraint" in q["reason"][0]
    assert json.loads(q["payload"][0])["text"] == "Leaked."
    columns = wh.query(
        "SELECT column_name, is_nullable FROM duckdb_columns() WHERE schema_name = 'curated' "
        "AND table_name = 'claims' AND column_name = 'source_name'"
    )
    assert columns["is_nullable"][0] is False


def test_a_frame_with_a_misspelt_column_is_an_error_not_a_null(tmp_path):
    wh = Warehouse(tmp_path / "w.duckdb")
    wh.initialise([("en", "en")])
    frame = pl.DataFrame(
        {
            "claim_id": ["c"],
            "article_id": ["a"],
            "sentence_id": ["s"],
            "text": ["t"],
            "source_nmae": ["x"],
            "attribution": ["quote"],
        }
    )
    with pytest.raises(ValueError, match=r"columns the table does not have: \['source_nmae'\].*source_name"):
        wh.stage({"claims": frame}, pl.DataFrame(schema={"article_id": pl.String, "source_uri": pl.String}), [])


def test_a_frame_as_staged_has_every_column_of_its_table():
    from flows.warehouse.tables import CLAIMS

    frame = pl.DataFrame(
        {
            "claim_id": ["c"],
            "article_id": ["a"],
            "sentence_id": ["s"],
            "text": ["t"],
            "source_name": ["x"],
            "attribution": ["quote"],
        }
    )
    staged = CLAIMS.staged(frame)
    assert staged.columns == CLAIMS.column_names and staged["entity_ids"].to_list() == [None]
    assert staged.schema["entity_ids"] == CLAIMS.polars["entity_ids"]
    with pytest.raises(ValueError, match="source_nmae"):
        CLAIMS.staged(frame.rename({"source_name": "source_nmae"}))
