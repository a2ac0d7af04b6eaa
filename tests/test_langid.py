"""fastText language identification: seeds, flags, and code normalisation."""

import polars as pl

from flows.extract.langid import identify, known_codes, normalise_code
from tests.conftest import FIXTURES
from tests.helpers import process, seeds


def test_seed_languages():
    a = seeds()["articles"].sort("source_uri")
    assert a["language"].to_list() == ["it", "en", "sv", "pl", "vi"]
    assert (a["language_confidence"] > 0.9).all()
    assert (a["language_flags"].list.len() == 0).all()


def test_every_sentence_has_a_language_and_confidence_in_range():
    s = seeds()["sentences"]
    assert s["language"].null_count() == 0
    assert s["language_confidence"].is_between(0, 1).all()
    body = s.filter(pl.col("kind") == "body", pl.col("text").str.len_chars() > 60)
    art_lang = dict(seeds()["articles"].select("article_id", "language").iter_rows())
    agree = sum(art_lang[a] == l for a, l in body.select("article_id", "language").iter_rows())
    assert agree / body.height > 0.97


def test_mixed_language_article_is_flagged_not_dropped():
    out = process([FIXTURES / "mixed_en_de.txt"])
    row = out["articles"].row(0, named=True)
    assert "mixed_language" in row["language_flags"]
    assert {row["language"], row["secondary_language"]} == {"en", "de"}
    assert out["sentences"].height >= 5


def test_symbols_only_are_undetermined():
    langs, confs = identify(["\\", "12 345", "Bonjour tout le monde, comment allez-vous ?"])
    assert langs[:2] == ["und", "und"] and confs[:2] == [0.0, 0.0]
    assert langs[2] == "fr"


def test_codes_are_normalised_iso_639():
    assert normalise_code("__label__en") == "en"
    assert normalise_code("__label__als") == "gsw"  # Alemannic: no ISO 639-1 code
    codes = known_codes()
    assert "und" in codes and "vi" in codes and len(codes) > 150
