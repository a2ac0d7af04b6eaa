"""Cited outlets and claim attribution on the seeds and on articles in other languages."""

import polars as pl

from flows.extract.attribution import is_checkable, sentence_source
from tests.conftest import FIXTURES
from tests.helpers import by_language, process, seeds


def cited(language: str) -> set[str]:
    return set(by_language(seeds()["citations"], language)["name"])


def test_each_seed_cites_its_outlets():
    assert cited("sv") >= {"Financial Times", "Security Affairs", "CNN"}
    assert "Financial Times" in cited("en")  # written "Finance Times" in the article
    assert "Financial Times" in cited("it") and "Il Sole 24 Ore" in cited("it")
    assert cited("pl") >= {"Financial Times", "Polska Agencja Prasowa"}
    assert "Financial Times" in cited("vi")
    # an ordinary word that spells an outlet's name is not a citation ('belga' = Belgian in Italian)
    assert "Belga" not in cited("it")


def test_citation_evidence():
    c = seeds()["citations"]
    sv = by_language(c, "sv")
    assert dict(zip(sv["name"], sv["how"]))["Security Affairs"] == "source_line"
    en = by_language(c, "en").filter(pl.col("name") == "Financial Times").row(0, named=True)
    assert en["surface"] == "Finance Times" and en["how"] == "reported"


def test_no_claim_from_captions_source_lines_teasers_or_headings():
    claims = seeds()["claims"]
    kinds = seeds()["sentences"].select("sentence_id", "kind")
    assert set(claims.join(kinds, on="sentence_id")["kind"]) == {"body"}
    teaser_text = "Alibaba sẽ rót 845,44 triệu USD"
    assert not claims["text"].str.contains(teaser_text, literal=True).any()


def test_every_seed_claim_has_a_source_or_says_why_not():
    """A claim names its source, goes on with the previous speaker, or is the article's own voice: its
    outlet's, or — the seeds name no outlet — where the article says its news comes from (its source line,
    or the outlet it cites with a cue: 'La notizia arriva dal Financial times')."""
    claims = seeds()["claims"]
    assert claims.height > 50
    assert claims["source_name"].null_count() == 0
    it = by_language(claims, "it")
    assert set(it.filter(pl.col("attribution") == "source_line")["source_name"]) == {"Financial Times"}


def test_named_speakers_and_outlets():
    claims = seeds()["claims"]

    def source_of(fragment):
        row = claims.filter(pl.col("text").str.contains(fragment, literal=True)).row(0, named=True)
        return row["source_name"], row["attribution"]

    assert source_of("CNN rapporterar") == ("CNN", "reported")
    assert source_of("Jonathan Holslag, docente") == ("Jonathan Holslag", "reported")
    assert source_of("Theo FT, nguy cơ") == ("Financial Times", "according_to")
    assert source_of("Vincent Van Quickenborne") == ("Vincent Van Quickenborne", "quote")
    assert source_of("Theo Cainiao, chỉ 1/5") == ("Cainiao", "according_to")
    assert source_of("come spiega Il Sole") == ("Il Sole 24 Ore", "according_to")
    # uncued sentences inherit the article's source line
    assert source_of("Denna order gäller sektorer") == ("Financial Times", "source_line")


def test_questions_and_speculation_are_not_claims():
    assert not is_checkable("Da dove vengono queste ipotesi?", "it")
    assert not is_checkable("Możliwe, że informacje odnośnie do europejskich klientów zostały przekazane.", "pl")
    assert not is_checkable("Pare, infatti, che le indagini si basino sull’ipotesi.", "it")
    assert is_checkable("The company is seeking permission to triple the size of its warehouses.", "en")


def test_not_cue_phrases_hide_false_cues():
    # 'theo dõi' is 'to monitor', not 'theo' = according to
    assert sentence_source("Bộ phận hậu cần của Alibaba bị theo dõi, có văn phòng tại sân bay.", "vi") is None


def test_german_front_matter_article():
    out = process([FIXTURES / "frontmatter_de.md"])
    assert set(out["citations"]["name"]) == {"Deutsche Presse-Agentur"}
    src = {t[:20]: (s, a) for t, s, a in out["claims"].select("text", "source_name", "attribution").iter_rows()}
    assert src["Laut dpa stieg der U"] == ("Deutsche Presse-Agentur", "according_to")
    assert src["„Wir haben die Krise"] == ("Hafenchefin Maria Kühn", "quote")


def test_french_and_dutch_jsonl():
    out = process([FIXTURES / "articles.jsonl"])
    langs = dict(out["articles"].select("article_id", "language").iter_rows())
    cites = {(langs[a], n) for a, n in out["citations"].select("article_id", "name").iter_rows()}
    assert ("fr", "Agence France-Presse") in cites
    assert ("nl", "Belga") in cites


def test_unattributable_claims_have_no_source():
    out = process([FIXTURES / "unattributed.txt"])
    assert out["claims"].height == 3
    assert out["claims"]["source_name"].null_count() == 3


def test_a_description_after_according_to_is_the_source_and_its_mention(tmp_path):
    """'nach Angaben der Besatzung': the crew is the source; the run of capitalised nouns around it is
    dropped for the speaker's mention, and no mention id is reused (ids are the mentions' primary key).
    'laut Rettungskräften' names a group no entity stands for: a description source, not a mention."""
    from tests.helpers import process

    path = tmp_path / "de.txt"
    path.write_text(
        "Schiffsunglück in Baltimore\n\nNach Angaben der Besatzung gab es auf dem Schiff von Kapitän Hans Müller "
        "ein Problem mit dem Strom in Baltimore. Laut Rettungskräften sind mindestens sechs "
        "Menschen vermisst worden, teilte die Polizei in Baltimore mit.\n",
        encoding="utf-8",
    )
    out = process([path])
    sources = out["claims"].select("source_name", "attribution").rows()
    assert ("Besatzung", "according_to") in sources and ("Rettungskräften", "according_to") in sources
    mentions = out["mentions"]
    assert "Besatzung" in set(mentions["surface"]) and "Rettungskräften" not in set(mentions["surface"])
    kinds = dict(out["claims"].select("source_name", "source_kind").rows())
    assert kinds["Rettungskräften"] == "description" and kinds["Besatzung"] == "speaker"
    assert "Angaben der Besatzung" not in set(mentions["surface"])
    assert mentions["mention_id"].is_unique().all()
