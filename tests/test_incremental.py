"""Incremental runs: only new or changed articles are extracted; the result equals a full rebuild."""
import shutil


from flows.params import Thresholds
from flows.pipeline import curate
from flows.warehouse import Warehouse
from tests.conftest import FIXTURES
from tests.test_pipeline import assert_same, snapshot


def test_one_new_article_is_the_only_one_extracted_and_equals_a_full_rebuild(prefect_backend, tmp_path, seeds_copy):
    warehouse = tmp_path / "w.duckdb"
    first = curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert first["status"] == "published" and first["articles_extracted"] == 5

    shutil.copy(FIXTURES / "economy_en.txt", seeds_copy / "economy_en.txt")
    second = curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert second["status"] == "published"
    assert second["articles_in"] == 6 and second["articles_extracted"] == 1 and second["articles_published"] == 6
    runs = Warehouse(warehouse).query("SELECT articles_extracted FROM audit.runs ORDER BY started_at")
    assert runs["articles_extracted"].to_list() == [5, 1]

    rebuilt = tmp_path / "rebuilt.duckdb"
    full = curate(source=str(seeds_copy), warehouse=str(rebuilt), full_refresh=True)
    assert full["articles_extracted"] == 6
    assert_same(snapshot(warehouse), snapshot(rebuilt))

    # the same input again: nothing to extract, audit or publish, and nothing changes
    before = snapshot(warehouse)
    third = curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert third["status"] == "unchanged" and third["articles_extracted"] == 0
    assert "audit" not in third["timings"] and "publish" not in third["timings"]
    assert_same(before, snapshot(warehouse))


def test_changed_thresholds_extract_everything_again(prefect_backend, tmp_path, seeds_copy):
    warehouse = tmp_path / "w.duckdb"
    curate(source=str(seeds_copy), warehouse=str(warehouse))
    again = curate(source=str(seeds_copy), warehouse=str(warehouse), thresholds=Thresholds(claim_min_words=12))
    assert again["status"] == "published" and again["articles_extracted"] == 5
    shortest = Warehouse(warehouse).query("SELECT min(len(string_split(text, ' '))) AS n FROM curated.claims")["n"][0]
    assert shortest >= 12


def test_languages_keep_only_those_languages_and_record_the_rest(prefect_backend, tmp_path, seeds_copy):
    warehouse = tmp_path / "w.duckdb"
    curate(source=str(seeds_copy), warehouse=str(warehouse))
    summary = curate(source=str(seeds_copy), warehouse=str(warehouse), languages=["it", "en"])
    assert summary["status"] == "published" and summary["articles_skipped"] == 3
    wh = Warehouse(warehouse)
    assert sorted(wh.query("SELECT language FROM curated.articles")["language"]) == ["en", "it"]
    skipped = wh.query("SELECT reason FROM audit.quarantine WHERE run_id = ? AND table_name = 'inputs'",
                       [summary["run_id"]])
    assert skipped.height == 3 and all("not selected" in r for r in skipped["reason"])
    # equal to a fresh run with the same filter
    fresh = tmp_path / "fresh.duckdb"
    curate(source=str(seeds_copy), warehouse=str(fresh), languages=["it", "en"])
    assert_same(snapshot(warehouse), snapshot(fresh))


def test_full_refresh_drops_articles_no_longer_in_the_source(prefect_backend, tmp_path, seeds_copy):
    warehouse = tmp_path / "w.duckdb"
    curate(source=str(seeds_copy), warehouse=str(warehouse))
    removed = sorted(seeds_copy.glob("*.txt"))[0]
    removed.unlink()
    kept = curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert Warehouse(warehouse).query("SELECT count(*) AS n FROM curated.articles")["n"][0] == 5  # still covered
    assert kept["status"] == "unchanged"
    curate(source=str(seeds_copy), warehouse=str(warehouse), full_refresh=True)
    uris = Warehouse(warehouse).query("SELECT source_uri FROM curated.article_sources")["source_uri"]
    assert len(uris) == 4 and not any(u.endswith(removed.name) for u in uris)
