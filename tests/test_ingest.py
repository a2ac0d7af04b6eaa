"""Reading inputs: formats, metadata, normalisation, dedup, and quarantine of unreadable input."""

from datetime import date

import pytest

from flows.extract.ingest import SourceError, clean_text, read_files, resolve_source, split_inline_metadata
from tests.conftest import FIXTURES, SEEDS


def test_seeds_read_as_five_distinct_articles():
    articles, rejected = read_files(resolve_source(SEEDS))
    assert articles.height == 5
    assert rejected.height == 0
    assert articles["article_id"].n_unique() == 5
    # every clean text is non-empty and keeps its original alongside
    assert all(len(t) > 1000 for t in articles["text"])
    assert all(o.strip() for o in articles["original_text"])


def test_inline_date_is_metadata_not_body():
    articles, _ = read_files(resolve_source(SEEDS / "000_e60c2366a82d169a.txt"))
    row = articles.row(0, named=True)
    assert row["published"] == date(2023, 10, 1)
    assert row["published_precision"] == "month"
    assert row["text"][row["body_start"] :].startswith("Sono anni")


def test_inline_metadata_needs_a_real_date():
    assert split_inline_metadata("data 2023-13 qualcosa")[0] == 0  # month 13 is no date
    assert split_inline_metadata("Datum: 14.02.2024 Der Hafen")[1] == date(2024, 2, 14)
    assert split_inline_metadata("The date of the vote is unknown")[0] == 0


def test_front_matter_fields(tmp_path):
    articles, _ = read_files([FIXTURES / "frontmatter_de.md"])
    row = articles.row(0, named=True)
    assert row["title"] == "Hafen Hamburg meldet Rekordumschlag"
    assert row["outlet"] == "Nordkurier Online"
    assert row["published"] == date(2024, 2, 14) and row["published_precision"] == "day"
    assert row["url"] == "https://example.org/hafen-rekord"
    assert not row["text"].startswith("---")


def test_jsonl_good_lines_survive_bad_neighbours():
    articles, rejected = read_files([FIXTURES / "articles.jsonl"])
    assert articles.height == 2
    assert set(articles["published_precision"]) == {"day", "month"}
    reasons = dict(zip(rejected["source_uri"], rejected["reason"]))
    assert any(uri.endswith("#L3") and r.startswith("invalid JSON") for uri, r in reasons.items())
    assert any(uri.endswith("#L4") and "no string field 'text'" in r for uri, r in reasons.items())


def test_unreadable_files_are_quarantined_with_reasons(tmp_path, monkeypatch):
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e".encode("latin-1") * 10)
    (tmp_path / "empty.txt").write_text("   \n\n")
    (tmp_path / "big.txt").write_text((SEEDS / "001_0f72ec4d703a37ee.txt").read_text())
    (tmp_path / "good.txt").write_text((FIXTURES / "unattributed.txt").read_text())
    from flows import config

    limits = {**config.settings()["ingest"], "max_bytes": 1000}
    monkeypatch.setitem(config.settings(), "ingest", limits)
    articles, rejected = read_files(resolve_source(tmp_path))
    assert [u.rsplit("/", 1)[-1] for u in articles["source_uri"]] == ["good.txt"]
    reasons = {uri.rsplit("/", 1)[-1]: r for uri, r in zip(rejected["source_uri"], rejected["reason"])}
    assert set(reasons) == {"binary.txt", "latin1.txt", "empty.txt", "big.txt"}
    assert reasons["binary.txt"].startswith("binary content")
    assert reasons["latin1.txt"].startswith("invalid UTF-8 at byte 3")
    assert reasons["empty.txt"].startswith("empty")
    assert reasons["big.txt"].startswith("oversized")


def test_same_text_twice_is_one_article(tmp_path):
    text = (SEEDS / "002_91df233c534764e3.txt").read_text()
    (tmp_path / "a.txt").write_text(text)
    (tmp_path / "b.txt").write_text("\ufeff" + text.replace("\n", "\r\n"))  # BOM and CRLF: same text
    articles, _ = read_files(resolve_source(tmp_path))
    assert articles.height == 1
    assert sorted(p.rsplit("/", 1)[-1] for p in articles["all_uris"][0]) == ["a.txt", "b.txt"]


def test_clean_text_removes_invisible_characters_and_keeps_quotes():
    raw = "Caf\u00e9\u200b said \u201cyes\u201d\u00a0today\u00ad.\r\nNext"
    assert clean_text(raw) == "Café said \u201cyes\u201d today.\nNext"


def test_resolve_source_errors(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        resolve_source(tmp_path / "missing")
    with pytest.raises(SourceError, match="no files match"):
        resolve_source(str(tmp_path / "*.txt"))
    with pytest.raises(SourceError, match="is empty"):
        resolve_source(tmp_path)
    assert resolve_source(str(SEEDS / "00[01]_*.txt")).files[0].name.startswith("000")


def test_files_that_are_not_articles_are_listed_not_read(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b")
    (tmp_path / "os-release").write_text("NAME=Debian\n" * 10)
    (tmp_path / "ok.txt").write_text("A perfectly ordinary article text about the harbour.")
    articles, rejected = read_files(resolve_source(tmp_path))
    assert articles.height == 1
    reasons = {u.rsplit("/", 1)[-1]: r for u, r in rejected.iter_rows()}
    assert set(reasons) == {"notes.csv", "os-release"}
    assert reasons["os-release"].startswith("not an article file: suffix '(none)'")
    assert reasons["notes.csv"].startswith("not an article file: suffix '.csv'")


def test_one_input_has_one_identity_however_it_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(SEEDS.parent)
    relative, _ = read_files(resolve_source("articles"))
    absolute, _ = read_files(resolve_source(SEEDS))
    assert relative["source_uri"].to_list() == absolute["source_uri"].to_list()
    assert all(u.startswith("/") for u in relative["source_uri"])
    (tmp_path / "link.txt").symlink_to(SEEDS / "000_e60c2366a82d169a.txt")
    linked, _ = read_files(resolve_source(tmp_path))
    assert linked["source_uri"][0] == str((SEEDS / "000_e60c2366a82d169a.txt").resolve())


def test_every_seed_article_has_a_title_and_says_where_it_and_its_date_came_from():
    from tests.helpers import process

    articles = process(sorted(SEEDS.glob("*.txt")))["articles"]
    by_file = {
        uri.rsplit("/", 1)[-1][:3]: row for uri, row in zip(articles["source_uri"], articles.iter_rows(named=True))
    }
    assert all(row["title"] for row in by_file.values())
    assert by_file["001"]["title"] == "Chinese giant Alibaba is under investigation for espionage activities in Europe"
    assert by_file["001"]["title_source"] == "headline"
    assert by_file["000"]["title_source"] == "lead" and by_file["000"]["title"].startswith("Sono anni che")
    assert len(by_file["004"]["title"]) <= 121 and by_file["004"]["title"].endswith("…")  # a long lead, clipped
    assert (by_file["000"]["published"].isoformat(), by_file["000"]["published_source"]) == ("2023-10-01", "text")
    assert by_file["001"]["published"] is None and by_file["001"]["published_source"] is None  # never guessed
