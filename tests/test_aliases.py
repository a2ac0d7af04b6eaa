"""Integrity of the alias tables in seeds/aliases (data, not code: a bad row must fail here, not skew a run).

An alias names one thing only (case-folded), every row is whole, and the codes are codes: a typo in a
country or a language would silently make an alias never match, or match as the wrong thing.
"""

import re

import polars as pl
import pytest

from tests.conftest import ROOT

ALIASES = ROOT / "seeds" / "aliases"
COUNTRY = re.compile(r"^[A-Z]{2}$")


def read(name: str) -> pl.DataFrame:
    return pl.read_csv(ALIASES / name, infer_schema_length=0)


def ambiguous(frame: pl.DataFrame, by: list[str]) -> list:
    key = frame.with_columns(pl.col("alias").str.strip_chars().str.to_lowercase().alias("_k"))
    clash = key.group_by(["_k", *by]).agg(pl.col("name").unique().sort()).filter(pl.col("name").list.len() > 1)
    return clash.rows()


def test_outlets_rows_are_whole_and_each_alias_names_one_outlet():
    outlets = read("outlets.csv")
    assert outlets.columns == ["name", "alias", "kind", "country"]
    assert outlets.null_count().row(0)[:3] == (0, 0, 0), "name, alias and kind are required"
    assert set(outlets["kind"]) <= {"outlet", "agency"}
    assert all(COUNTRY.match(c) for c in outlets["country"].drop_nulls()), "country: ISO 3166 alpha-2"
    assert not outlets.is_duplicated().any()
    assert not ambiguous(outlets, []), ambiguous(outlets, [])
    assert all(a == a.strip() and a for a in outlets["alias"]), "no surrounding spaces"
    # an outlet's country is one country
    countries = outlets.group_by("name").agg(pl.col("country").n_unique().alias("n")).filter(pl.col("n") > 1)
    assert countries.is_empty(), countries


def test_entities_rows_are_whole_and_each_alias_names_one_entity_per_language():
    entities = read("entities.csv")
    assert entities.columns == ["name", "type", "alias", "language", "code"]
    assert entities.select("name", "type", "alias", "language").null_count().row(0) == (0, 0, 0, 0)
    assert set(entities["type"]) <= {"PER", "ORG", "LOC", "MISC"}
    codes = set(entities["language"]) - {"*"}
    assert all(re.match(r"^[a-z]{2,3}$", c) for c in codes), sorted(codes)
    assert all(COUNTRY.match(c) for c in entities["code"].drop_nulls())
    assert not entities.is_duplicated().any()
    assert not ambiguous(entities, ["language"]), ambiguous(entities, ["language"])
    # one entity has one type
    types = entities.group_by("name").agg(pl.col("type").n_unique().alias("n")).filter(pl.col("n") > 1)
    assert types.is_empty(), types


@pytest.mark.parametrize("name", ["outlets.csv", "entities.csv"])
def test_alias_files_are_utf8_nfc(name):
    import unicodedata

    text = (ALIASES / name).read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", text) == text, "aliases must be NFC, as the text they are matched in"
