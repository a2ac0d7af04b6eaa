"""Incremental runs: only new or changed articles are extracted; the result equals a full rebuild."""

import shutil

import polars as pl
import pytest

from flows.params import Thresholds
from flows.pipeline import run_curate
from flows.warehouse.store import Warehouse
from tests.conftest import FIXTURES, SEEDS
from tests.test_pipeline import assert_same, snapshot


@pytest.fixture(scope="module")
def published_once(prefect_backend, tmp_path_factory):
    """One run over a copy of the seeds: (its source folder, its warehouse), shared by this module's tests."""
    base = tmp_path_factory.mktemp("incremental")
    source, warehouse = base / "articles", base / "published.duckdb"
    shutil.copytree(SEEDS, source)
    first = run_curate(source=str(source), warehouse=str(warehouse))
    assert first["status"] == "published" and first["articles_extracted"] == 5
    return source, warehouse


@pytest.fixture()
def published(published_once, tmp_path):
    """(source, warehouse) as that run left them, for a test to change: the folder is restored (a test
    before may have changed it; the paths must stay those the warehouse knows) and the warehouse copied."""
    source, template = published_once
    shutil.rmtree(source)
    shutil.copytree(SEEDS, source)
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(template, warehouse)
    return source, warehouse


def test_one_new_article_is_the_only_one_extracted_and_equals_a_full_rebuild(published, tmp_path):
    seeds_copy, warehouse = published
    shutil.copy(FIXTURES / "economy_en.txt", seeds_copy / "economy_en.txt")
    second = run_curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert second["status"] == "published"
    assert second["articles_in"] == 6 and second["articles_extracted"] == 1 and second["articles_published"] == 6
    runs = Warehouse(warehouse).query("SELECT articles_extracted FROM audit.runs ORDER BY started_at")
    assert runs["articles_extracted"].to_list() == [5, 1]

    rebuilt = tmp_path / "rebuilt.duckdb"
    full = run_curate(source=str(seeds_copy), warehouse=str(rebuilt), full_refresh=True)
    assert full["articles_extracted"] == 6
    assert_same(snapshot(warehouse), snapshot(rebuilt))

    # the same input again: nothing to extract, audit or publish, and nothing changes
    before = snapshot(warehouse)
    third = run_curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert third["status"] == "unchanged" and third["articles_extracted"] == 0
    assert "audit" not in third["timings"] and "publish" not in third["timings"]
    assert_same(before, snapshot(warehouse))


def test_changed_thresholds_extract_everything_again(published, tmp_path):
    seeds_copy, warehouse = published
    again = run_curate(source=str(seeds_copy), warehouse=str(warehouse), thresholds=Thresholds(claim_min_words=12))
    assert again["status"] == "published" and again["articles_extracted"] == 5
    shortest = Warehouse(warehouse).query("SELECT min(len(string_split(text, ' '))) AS n FROM curated.claims")["n"][0]
    assert shortest >= 12


def test_languages_keep_only_those_languages_and_record_the_rest(published, tmp_path):
    seeds_copy, warehouse = published
    summary = run_curate(source=str(seeds_copy), warehouse=str(warehouse), languages=["it", "en"])
    assert summary["status"] == "published" and summary["articles_skipped"] == 3
    wh = Warehouse(warehouse)
    assert sorted(wh.query("SELECT language FROM curated.articles")["language"]) == ["en", "it"]
    skipped = wh.query(
        "SELECT reason FROM audit.quarantine WHERE run_id = ? AND table_name = 'inputs'", [summary["run_id"]]
    )
    assert skipped.height == 3 and all("not selected" in r for r in skipped["reason"])
    # equal to a fresh run with the same filter
    fresh = tmp_path / "fresh.duckdb"
    run_curate(source=str(seeds_copy), warehouse=str(fresh), languages=["it", "en"])
    assert_same(snapshot(warehouse), snapshot(fresh))


def test_full_refresh_drops_articles_no_longer_in_the_source(published, tmp_path):
    seeds_copy, warehouse = published
    removed = sorted(seeds_copy.glob("*.txt"))[0]
    removed.unlink()
    kept = run_curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert Warehouse(warehouse).query("SELECT count(*) AS n FROM curated.articles")["n"][0] == 5  # still covered
    assert kept["status"] == "unchanged"
    run_curate(source=str(seeds_copy), warehouse=str(warehouse), full_refresh=True)
    uris = Warehouse(warehouse).query("SELECT source_uri FROM curated.article_sources")["source_uri"]
    assert len(uris) == 4 and not any(u.endswith(removed.name) for u in uris)


def test_same_languages_again_is_unchanged_without_identifying_anything(prefect_backend, tmp_path, seeds_copy):
    warehouse = tmp_path / "w.duckdb"
    run_curate(source=str(seeds_copy), warehouse=str(warehouse), languages=["it", "en"])
    again = run_curate(source=str(seeds_copy), warehouse=str(warehouse), languages=["it", "en"])
    assert again["status"] == "unchanged" and again["articles_extracted"] == 0 and again["articles_skipped"] == 3


def test_a_warehouse_from_before_the_cache_keeps_its_articles(published, tmp_path):
    from flows.warehouse.store import CACHED_TABLES

    warehouse = published[1]
    wh = Warehouse(warehouse)
    with wh.connect() as con:  # what an older version left: curated.* and no cache
        con.execute("DROP TABLE cache.state")
        for name in CACHED_TABLES:
            con.execute(f"DROP TABLE cache.{name}")
    one = tmp_path / "one"
    one.mkdir()
    shutil.copy(FIXTURES / "economy_en.txt", one / "economy_en.txt")
    summary = run_curate(source=str(one), warehouse=str(warehouse))
    assert summary["status"] == "published"
    assert summary["articles_extracted"] == 6  # the new one, and the five kept ones again from their text
    assert wh.query("SELECT count(*) AS n FROM curated.articles")["n"][0] == 6


def test_a_file_that_becomes_unreadable_takes_its_old_version_out(published, tmp_path):
    seeds_copy, warehouse = published
    broken = sorted(seeds_copy.glob("*.txt"))[0]
    broken.write_bytes(b"\x00\x01\x02 truncated upload")
    summary = run_curate(source=str(seeds_copy), warehouse=str(warehouse))
    assert summary["status"] == "published" and summary["inputs_rejected"] == 1
    uris = Warehouse(warehouse).query("SELECT source_uri FROM curated.article_sources")["source_uri"]
    assert len(uris) == 4 and not any(u.endswith(broken.name) for u in uris)


# ---------------------------------------------------------------- the plan alone (no warehouse)

KEYS = {"extract_key": "e", "run_key": "r"}


def frames(*rows):
    """Input articles and the matching cache from (article_id, content_key, uri, language) rows."""
    articles = pl.DataFrame(
        [{"article_id": a, "content_key": k, "source_uri": u, "all_uris": [u]} for a, k, u, _ in rows]
    )
    cached = pl.DataFrame(
        [{"article_id": a, "content_key": k, "source_uri": u, "language": lang} for a, k, u, lang in rows]
    )
    members = pl.DataFrame([{"article_id": a, "source_uri": u} for a, _, u, _ in rows])
    return articles, cached, members


def test_plan_reuses_unchanged_and_extracts_changed_or_renamed():
    from flows.warehouse.incremental import plan

    articles, cached, members = frames(("A", "k1", "a.txt", "it"), ("B", "k2", "b.txt", "en"))
    same = plan(articles, cached, members, KEYS, KEYS)
    assert same.unchanged and same.extract.height == 0 and same.reuse == ["A", "B"]
    edited = articles.with_columns(content_key=articles["content_key"].replace("k1", "k9"))  # same text, new title
    assert plan(edited, cached, members, KEYS, KEYS).extract["article_id"].to_list() == ["A"]
    renamed = articles.with_columns(
        source_uri=articles["source_uri"].replace("b.txt", "c.txt"),
        all_uris=articles["all_uris"].list.eval(pl.element().replace("b.txt", "c.txt")),
    )
    moved = plan(renamed, cached, members, KEYS, KEYS)
    assert moved.extract["article_id"].to_list() == ["B"] and not moved.unchanged
    # the old path stays a source until --full-refresh: a file that is gone is not a retraction
    assert sorted(moved.members["source_uri"]) == ["a.txt", "b.txt", "c.txt"]
    changed_code = plan(articles, cached, members, {"extract_key": "x"}, KEYS)
    assert changed_code.extract.height == 2 and "pipeline changed" in changed_code.reason
