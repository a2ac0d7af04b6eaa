"""Sentences, offsets and sentence kinds on the seeds and on layouts they do not show."""

import polars as pl

from flows.extract.segment import segment_article
from tests.helpers import by_language, seeds


def kinds_of(language: str) -> dict[str, str]:
    s = by_language(seeds()["sentences"], language)
    return dict(zip(s["text"], s["kind"]))


def test_offsets_reproduce_every_sentence():
    art = seeds()["articles"].select("article_id", "text")
    s = seeds()["sentences"].join(art, on="article_id", suffix="_article")
    for row in s.iter_rows(named=True):
        assert row["text_article"][row["start_char"] : row["end_char"]] == row["text"]


def test_photo_credit_is_a_caption():
    sv = kinds_of("sv")
    assert sv["Foto: Wikipedia Common, kredit: Raimond Spekking"] == "caption"
    assert sv["Flygplatsen i belgiska Liege."] == "caption"  # the photo's description, same block
    pl_ = kinds_of("pl")
    assert pl_["Zdjęcie otwierające: unsplash.com (@cardmapr)"] == "caption"


def test_source_lines_in_every_style():
    assert kinds_of("sv")["Källor: Financial Times och Security Affairs"] == "source_line"
    assert kinds_of("en")["Source: Today IT"] == "source_line"
    assert kinds_of("pl")["Źródło: Financial Times, PAP"] == "source_line"
    assert kinds_of("vi")["(Theo FT)"] == "source_line"


def test_related_story_teasers_after_the_closing_source_line():
    vi = by_language(seeds()["sentences"], "vi").sort("position")
    after = vi.filter(pl.col("position") > vi.filter(pl.col("text") == "(Theo FT)")["position"][0])
    assert after.height == 5 and set(after["kind"]) == {"teaser"}
    assert "body" in set(vi.filter(pl.col("text").str.starts_with("Theo FT,"))["kind"])


def test_headlines_subheadings_and_metadata():
    assert (
        kinds_of("en")["Chinese giant Alibaba is under investigation for espionage activities in Europe"] == "headline"
    )
    assert kinds_of("sv")["Kommer att övervakas noggrant"] == "subheading"
    assert kinds_of("pl")["Dane klientów AliExpress trafiały do chińskiego rządu?"] == "subheading"
    assert kinds_of("it")["I sospetti di spionaggio per Alibaba"] == "subheading"
    assert kinds_of("it")["date 2023-10"] == "other"
    assert kinds_of("en")["\\"] == "other"


def test_glued_sentence_is_split_at_the_capitalised_function_word():
    en = kinds_of("en")
    assert "Belgian security services reported Finance Times" in en
    assert any(t.startswith("The checking activity is focused") for t in en)


def test_camel_case_names_are_not_split():
    rows = segment_article("x", "Users of AliExpress and LinkedIn said YouTube grew in the period.", 0, "en")
    assert [r["text"] for r in rows] == ["Users of AliExpress and LinkedIn said YouTube grew in the period."]


def test_unknown_language_still_segments_by_layout():
    text = "Заголовок статьи\n\nПервое предложение статьи. Второе предложение статьи.\n\nИсточник: ТАСС"
    rows = segment_article("x", text, 0, "ru")
    assert [r["kind"] for r in rows][:3] == ["headline", "body", "body"]


def test_a_run_on_text_is_cut_into_sentences_no_longer_than_the_limit():
    """Every later step works sentence by sentence, some in time that grows with the square of a sentence's
    length: a text without full stops must not reach them as one 1.9 MB "sentence" (issue 10)."""
    from flows.config import setting

    limit = setting("segment", "max_sentence_chars")
    unit = "the minister met Giorgia Meloni in Rome while Reuters reported 30,000 euro on 5 July and "
    text = "A very long report\n\n" + unit * (20 * limit // len(unit)) + "end."
    out = segment_article("a", text, 0, "en")
    body = [s for s in out if s["start_char"] >= 20]
    assert len(body) >= 20
    assert max(s["end_char"] - s["start_char"] for s in out) <= limit
    assert all(text[s["start_char"] : s["end_char"]] == s["text"] for s in out)
    # cut at spaces, and nothing lost: the pieces cover the text but for the spaces between them
    assert all(not s["text"][0].isspace() and not s["text"][-1].isspace() for s in out)
    covered = sum(s["end_char"] - s["start_char"] for s in body)
    assert covered >= len(text) - 20 - len(body) - 2
    # a script written without spaces is cut too
    zh = "报告" + "路透社报道称欧盟委员会在布鲁塞尔宣布了新的规定" * (3 * limit // 22)
    pieces = segment_article("z", zh, 0, "zh")
    assert len(pieces) >= 3 and max(len(s["text"]) for s in pieces) <= limit
