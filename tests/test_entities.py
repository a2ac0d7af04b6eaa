"""Entities: one canonical entity per real-world thing across languages and spellings."""

from functools import cache

import polars as pl

from flows.extract.mentions import extract_mentions, name_key
from flows.lexicon import gazetteer
from flows.link.entities import resolve
from tests.conftest import FIXTURES
from tests.helpers import process, seeds


@cache
def resolved():
    d = seeds()
    mentions, edges = extract_mentions(d["articles"], d["sentences"], d["claims"])
    languages = dict(d["articles"].select("article_id", "language").iter_rows())
    return resolve(mentions, edges, languages)


def entity_of(surface: str, language: str) -> set[str]:
    ents, aliases, mentions, _ = resolved()
    return set(mentions.filter(pl.col("surface") == surface, pl.col("language") == language)["entity_id"])


def one_entity(*pairs) -> str:
    ids = set().union(*(entity_of(s, l) for s, l in pairs))
    assert len(ids) == 1, (pairs, ids)
    return ids.pop()


def test_countries_cities_and_outlets_are_one_entity_across_languages():
    names = dict(resolved()[0].select("entity_id", "name").iter_rows())
    assert names[one_entity(("Belgio", "it"), ("Belgium", "en"), ("Belgien", "sv"), ("Bỉ", "vi"))] == "Belgium"
    assert (
        names[one_entity(("Liegi", "it"), ("Liège", "en"), ("Liege", "sv"), ("Liege", "pl"), ("Liège", "vi"))]
        == "Liège"
    )
    assert names[one_entity(("Pechino", "it"), ("Beijing", "en"), ("Bắc Kinh", "vi"))] == "Beijing"
    assert names[one_entity(("Cina", "it"), ("Kina", "sv"), ("Trung Quốc", "vi"))] == "China"
    assert (
        names[
            one_entity(
                ("Financial times", "it"),
                ("Finance Times", "en"),
                ("Financial Times", "sv"),
                ("Financial Times", "pl"),
                ("FT", "vi"),
            )
        ]
        == "Financial Times"
    )


def test_vsse_long_names_and_acronym_are_one_entity():
    eid = one_entity(("VSSE", "en"), ("VSSE", "pl"), ("VSSE", "vi"))
    aliases = set(resolved()[1].filter(pl.col("entity_id") == eid)["alias"])
    assert "Belgian State Security Service" in aliases
    assert any(
        a.startswith("Belgijska Służba Bezpieczeństwa Państwowego") or a.startswith("Służba Bezpieczeństwa")
        for a in aliases
    )


def test_demonyms_point_to_their_country():
    be = one_entity(("Belgio", "it"))
    assert entity_of("belga", "it") == {be}
    assert entity_of("belgijskim", "pl") == {be}
    assert entity_of("belgiska", "sv") == {be}
    cn = one_entity(("Cina", "it"))
    assert entity_of("chińskich", "pl") == {cn} and entity_of("cinesi", "it") == {cn}


def test_people_and_surnames():
    names = dict(resolved()[0].select("entity_id", "name").iter_rows())
    types = dict(resolved()[0].select("entity_id", "type").iter_rows())
    eid = one_entity(("Jonathan Holslag", "it"), ("Jonathan Holslag", "vi"), ("Holslag", "vi"))
    assert names[eid] == "Jonathan Holslag" and types[eid] == "PER"


def test_mention_offsets_reproduce_surfaces():
    d = seeds()
    texts = dict(d["articles"].select("article_id", "text").iter_rows())
    for aid, a, z, surface in resolved()[2].select("article_id", "start_char", "end_char", "surface").iter_rows():
        assert texts[aid][a:z] == surface


def test_ordinary_words_are_not_places():
    # capitalised common words opening a sentence, and words that only look like a demonym
    assert gazetteer.demonym("servi", "servire", "it") is None
    assert gazetteer.demonym("dominare", "dominare", "it") is None
    ents = resolved()[0]
    assert not ents.filter(pl.col("name").is_in(["Talā", "Dominica", "Serbia", "Windham"])).height


def test_entities_in_german_and_french_articles():
    out = process([FIXTURES / "frontmatter_de.md", FIXTURES / "articles.jsonl"])
    mentions, edges = extract_mentions(out["articles"], out["sentences"], out["claims"])
    ents, _, resolved_mentions, _ = resolve(mentions, edges, {})
    names = set(ents["name"])
    assert {"Hamburg", "Marseille", "Deutsche Presse-Agentur", "Agence France-Presse"} <= names
    assert "Antwerp" in names  # "Antwerpen" in the Dutch article


def test_a_name_after_a_title_or_place_is_the_name_written_alone():
    rows = [
        # (article, language, surface): a title, a country written before the name, a descriptor before a place
        ("a1", "en", "President-elect Donald Trump"),
        ("a2", "fr", "Donald Trump"),
        ("a3", "ru", "США Дональд Трамп"),
        ("a4", "ru", "Дональд Трамп"),
        ("a5", "de", "die Stadt Derna"),
        ("a6", "it", "Derna"),
        ("a7", "en", "Maryland Governor Wes Moore"),
        ("a8", "en", "Wes Moore"),
        # not a title: a first name, an airline, a club, a bank
        ("a1", "en", "Brigitte Macron"),
        ("a2", "fr", "Macron"),
        ("a3", "en", "Air France"),
        ("a4", "fr", "France"),
        ("a5", "es", "Real Madrid"),
        ("a6", "es", "Madrid"),
        ("a7", "en", "Bank of America"),
        ("a8", "en", "America"),
    ]

    def key(surface, language):
        entry = gazetteer.lookup(surface, language)
        return entry.key if entry is not None else name_key(surface)

    mentions = pl.DataFrame(
        [
            {
                "entity_key": key(s, lang),
                "surface": s,
                "type_hint": "MISC",
                "article_id": a,
                "language": lang,
                "how": "name",
            }
            for a, lang, s in rows
        ]
    )
    edges = pl.DataFrame(schema={"key_a": pl.String, "key_b": pl.String, "reason": pl.String})
    _, _, resolved, _ = resolve(mentions, edges, {})
    entity = dict(zip(resolved["surface"], resolved["entity_id"]))
    assert entity["President-elect Donald Trump"] == entity["Donald Trump"]
    assert entity["США Дональд Трамп"] == entity["Дональд Трамп"]
    assert entity["die Stadt Derna"] == entity["Derna"]
    assert entity["Maryland Governor Wes Moore"] == entity["Wes Moore"]
    assert entity["Brigitte Macron"] != entity["Macron"]
    assert entity["Air France"] != entity["France"]
    assert entity["Real Madrid"] != entity["Madrid"]
    assert entity["Bank of America"] != entity["America"]


def test_every_uncased_name_holds_a_letter_the_prefilter_looks_for():
    # uncased_names skips a text with no letter of a script without capitals: that is only safe while every
    # name in its automata holds one (checked over the shared names and a few languages' territory names)
    keys = list(gazetteer._uncased_shared())
    for language in ("ar", "zh", "ja", "ka", "hi", "en", "ru"):
        keys += [k for k, _ in gazetteer._uncased_entries(gazetteer.territory_names(language).items())]
    assert len(keys) > 10_000
    assert [k for k in keys if not gazetteer._UNCASED_CHAR.search(k)] == []
