"""The curate flow end to end: publish, quarantine, blocking, idempotence, atomic publish."""

import json
import shutil

import polars as pl
import pytest

from flows.pipeline import run_curate
from flows.warehouse.store import STAGED_TABLES, Warehouse
from tests.conftest import FIXTURES, ROOT, SEEDS


def snapshot(warehouse) -> dict[str, pl.DataFrame]:
    wh = Warehouse(warehouse)
    return {t: wh.query(f"SELECT * FROM curated.{t}").sort(pl.all()) for t in STAGED_TABLES}


def assert_same(a: dict, b: dict) -> None:
    for table in STAGED_TABLES:
        assert a[table].equals(b[table]), f"curated.{table} differs"


def test_seeds_publish_five_articles_in_five_languages(seed_run, query):
    summary, _ = seed_run
    assert summary["status"] == "published"
    articles = query("SELECT language FROM curated.articles ORDER BY source_uri")
    assert articles["language"].to_list() == ["it", "en", "sv", "pl", "vi"]
    assert summary["articles_published"] == 5 and summary["articles_quarantined"] == 0


def test_seed_citations_in_curated(query):
    rows = query("""SELECT a.language, c.name FROM curated.citations c JOIN curated.articles a USING (article_id)""")
    by_lang = {l: set(rows.filter(pl.col("language") == l)["name"]) for l in rows["language"].unique()}
    assert by_lang["sv"] >= {"Financial Times", "Security Affairs", "CNN"}
    for lang in ("it", "en", "sv", "pl", "vi"):
        assert "Financial Times" in by_lang[lang], lang


def test_published_claims_all_have_sources_and_come_from_body(query):
    claims = query("SELECT c.source_name, s.kind FROM curated.claims c JOIN curated.sentences s USING (sentence_id)")
    assert claims.height > 50
    assert claims["source_name"].null_count() == 0
    assert set(claims["kind"]) == {"body"}
    captions = query("SELECT count(*) AS n FROM curated.sentences WHERE kind IN ('caption', 'teaser')")
    assert captions["n"][0] >= 8  # 2 sv + 1 pl photo credits, 5 vi teasers


def test_audit_results_and_run_log(seed_run, query):
    run_id = seed_run[0]["run_id"]
    results = query("SELECT * FROM audit.results WHERE run_id = ?", [run_id])
    assert results.height == seed_run[0]["expectations_evaluated"] >= 20
    assert results["success"].all()
    assert set(results["table_name"]) >= {"articles", "sentences", "citations", "claims", "entities", "mentions"}
    run = query("SELECT * FROM audit.runs WHERE run_id = ?", [run_id]).row(0, named=True)
    assert run["status"] == "published" and run["articles_in"] == 5
    assert set(json.loads(run["timings"])) >= {
        "ingest",
        "plan",
        "extract",
        "stage",
        "record",
        "link",
        "audit",
        "publish",
    }


def test_sentence_offsets_hold_in_the_warehouse(query):
    bad = query("""SELECT count(*) AS n FROM curated.sentences s JOIN curated.articles a USING (article_id)
                   WHERE substring(a.text, s.start_char + 1, s.end_char - s.start_char) <> s.text""")
    assert bad["n"][0] == 0


def test_unattributable_claims_are_quarantined_not_published(prefect_backend, tmp_path, seeds_copy):
    shutil.copy(FIXTURES / "unattributed.txt", seeds_copy / "unattributed.txt")
    warehouse = tmp_path / "w.duckdb"
    summary = run_curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert summary["status"] == "published"
    assert summary["articles_published"] == 6  # the article itself is fine; only its claims are held back
    wh = Warehouse(warehouse)
    aid = wh.query("SELECT article_id FROM curated.articles WHERE source_uri LIKE '%unattributed.txt'")["article_id"][0]
    assert wh.query("SELECT count(*) AS n FROM curated.claims WHERE article_id = ?", [aid])["n"][0] == 0
    q = wh.query("SELECT * FROM audit.quarantine WHERE run_id = ? AND table_name = 'claims'", [summary["run_id"]])
    assert q.height == 3
    assert set(q["reason"]) == {"failed: every claim has a source"}
    assert set(q["article_id"]) == {aid} and q["source_uri"][0].endswith("unattributed.txt")
    assert all(json.loads(p)["text"] for p in q["payload"])  # the row itself is kept for review
    # the seeds' claims were not disturbed by their bad neighbour
    assert wh.query("SELECT count(*) AS n FROM curated.claims")["n"][0] == summary["claims"] > 50


def test_failed_critical_expectation_leaves_curated_untouched(seed_run, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(seed_run[1], warehouse)  # the seeds, published
    before = snapshot(warehouse)
    # a stricter suite set: one critical expectation these seeds cannot meet
    strict = tmp_path / "expectations"
    shutil.copytree(ROOT / "expectations", strict)
    suite = json.loads((strict / "claims.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_set",
            "kwargs": {"column": "attribution", "value_set": ["quote"]},
            "meta": {"severity": "critical", "description": "only direct quotes are accepted"},
        }
    )
    (strict / "claims.json").write_text(json.dumps(suite))
    extra = tmp_path / "more"
    extra.mkdir()
    shutil.copy(FIXTURES / "frontmatter_de.md", extra / "de.md")
    summary = run_curate(source=str(extra), warehouse=str(warehouse), expectations=str(strict))
    assert summary["status"] == "blocked"
    assert "only direct quotes are accepted" in summary["reason"]
    assert_same(before, snapshot(warehouse))
    run = Warehouse(warehouse).query(
        "SELECT status, critical_failed FROM audit.runs WHERE run_id = ?", [summary["run_id"]]
    )
    assert run.row(0) == ("blocked", 1)


def test_nothing_readable_blocks_publishing(prefect_backend, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    run_curate(source=str(SEEDS / "001_0f72ec4d703a37ee.txt"), warehouse=str(warehouse))
    before = snapshot(warehouse)
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01\x02binary")
    summary = run_curate(source=str(junk), warehouse=str(warehouse))
    assert summary["status"] == "blocked" and summary["inputs_rejected"] == 1
    assert summary["reason"].startswith("no readable articles")
    assert_same(before, snapshot(warehouse))
    q = Warehouse(warehouse).query("SELECT reason FROM audit.quarantine WHERE run_id = ?", [summary["run_id"]])
    assert q["reason"][0].startswith("binary content")


def test_same_input_twice_gives_identical_curated_tables(seed_run, tmp_path):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(seed_run[1], warehouse)  # the seeds' first run
    first = snapshot(warehouse)
    again = run_curate(source=str(SEEDS), warehouse=str(warehouse))
    assert_same(first, snapshot(warehouse))
    assert first["articles"].height == 5
    # "latest" describes the published state; the run that found nothing new is when it was last checked
    latest = Warehouse(warehouse).query("SELECT status, claims, last_run_id, last_status FROM audit.latest_run")
    assert latest.rows() == [("published", first["claims"].height, again["run_id"], again["status"])]
    assert again["status"] == "unchanged"
    results = Warehouse(warehouse).query("SELECT count(*) AS n FROM audit.latest_results")["n"][0]
    assert results >= 20


def test_changed_source_replaces_its_old_version(prefect_backend, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / "story.txt"
    target.write_text((SEEDS / "001_0f72ec4d703a37ee.txt").read_text())
    warehouse = tmp_path / "w.duckdb"
    run_curate(source=str(folder), warehouse=str(warehouse))
    target.write_text(target.read_text().replace("63 percent", "64 percent"))
    run_curate(source=str(folder), warehouse=str(warehouse))
    wh = Warehouse(warehouse)
    arts = wh.query("SELECT article_id, text FROM curated.articles")
    assert arts.height == 1 and "64 percent" in arts["text"][0]
    orphans = wh.query(
        "SELECT count(*) AS n FROM curated.sentences WHERE article_id NOT IN (SELECT article_id FROM curated.articles)"
    )
    assert orphans["n"][0] == 0


def test_publish_that_fails_midway_changes_nothing(seed_run, tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(seed_run[1], warehouse)  # the seeds, published
    before = snapshot(warehouse)
    original = Warehouse._publish

    def crash_after_deleting(con, run_id):
        original(con, run_id)  # curated rows already swapped inside the transaction
        raise RuntimeError("killed mid-publish")

    monkeypatch.setattr(Warehouse, "_publish", staticmethod(crash_after_deleting))
    with pytest.raises(RuntimeError, match="killed mid-publish"):
        run_curate(source=str(FIXTURES / "frontmatter_de.md"), warehouse=str(warehouse))
    assert_same(before, snapshot(warehouse))


def test_extraction_tables_are_published_and_linked(query):
    counts = query("""SELECT (SELECT count(*) FROM curated.entities) AS e, (SELECT count(*) FROM curated.mentions) AS m,
                             (SELECT count(*) FROM curated.quantities) AS q, (SELECT count(*) FROM curated.dates) AS d""").row(
        0
    )
    assert all(n > 5 for n in counts)
    linked = query("""SELECT count(*) FILTER (WHERE len(entity_ids) > 0) AS with_entities,
                             count(*) FILTER (WHERE len(quantity_ids) > 0) AS with_quantities,
                             count(*) FILTER (WHERE len(date_ids) > 0) AS with_dates,
                             count(*) FILTER (WHERE source_entity_id IS NULL AND source_kind <> 'description'
                                 AND source_name NOT IN (SELECT name FROM curated.citations)) AS unresolved,
                             count(*) FILTER (WHERE source_kind = 'description'
                                 AND NOT contains(lower(source_surface), lower(source_name))) AS unwritten
                      FROM curated.claims""").row(0, named=True)
    assert linked["with_entities"] > 40 and linked["with_quantities"] >= 8 and linked["with_dates"] >= 4
    # every source is an entity or a cited outlet, or a description ('the authorities') in its own words
    assert linked["unresolved"] == 0 and linked["unwritten"] == 0
    ft = query("SELECT entity_id, languages FROM curated.entities WHERE name = 'Financial Times'")
    assert ft.height == 1 and set(ft["languages"][0]) == {"it", "en", "sv", "pl", "vi"}


def test_a_run_outside_its_roots_or_without_a_source_is_refused_before_any_task(prefect_backend, tmp_path, monkeypatch):
    """What a deployment's run gets for a bad path (served: tests/test_server.py): `refused`, one line, and
    nothing written: the warehouse is never created."""
    monkeypatch.setenv("NEWSFLOW_ENFORCE_ROOTS", "1")
    monkeypatch.setenv("NEWSFLOW_SOURCE_ROOTS", str(tmp_path))
    monkeypatch.setenv("NEWSFLOW_WAREHOUSE_ROOTS", str(tmp_path))
    warehouse = tmp_path / "w.duckdb"
    cases = [
        ({"source": str(tmp_path / "missing")}, f"source {str(tmp_path / 'missing')!r} does not exist"),
        ({"source": str(SEEDS), "expectations": "/etc"}, "expectations '/etc' is outside the folders suites may"),
    ]
    for extra, why in cases:
        summary = run_curate(warehouse=str(warehouse), **extra)
        assert summary["status"] == "refused" and why in summary["reason"], summary
        assert len(summary["reason"].splitlines()) == 1 and summary["timings"] == {}
    assert list(tmp_path.iterdir()) == []
