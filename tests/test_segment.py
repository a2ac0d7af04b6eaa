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


def test_a_cjk_paragraph_of_one_sentence_is_body_not_a_subheading():
    """Chinese and Japanese end sentences with '。' and have no capitals or spaces: a one-sentence paragraph
    is prose (the ja Reuters and zh NOWnews dev articles lost their leads and the governor's declaration)."""
    ja = (
        "貨物船衝突し巨大な橋が崩落、複数の車両落下 米ボルティモア港\n\n"
        "報道によると、貨物船が「推進力」を失ったという。当局によると、通行中の少なくとも7台が転落したという。\n\n"
        "事故を受けてメリーランド州のムーア知事は非常事態を宣言した。\n\n"
        "被害の状況\n\n"
        "シナジーによると、乗組員全員の安否が確認され負傷者はいないという。"
    )
    kinds = {r["text"]: r["kind"] for r in segment_article("j", ja, 0, "ja")}
    assert kinds["貨物船衝突し巨大な橋が崩落、複数の車両落下 米ボルティモア港"] == "headline"
    assert kinds["事故を受けてメリーランド州のムーア知事は非常事態を宣言した。"] == "body"
    assert kinds["被害の状況"] == "subheading"  # a short block with no full stop still is one
    zh = (
        "摩洛哥大阿特拉斯山(High Atlas)在當地時間8日深夜11時11分,發生規模6.8強烈地震,震央位於馬拉喀什(Marrekesh)"
        "西南約71公里,深度約18.5公里,目前已知造成了2012人死亡、2059人受傷。\n\n"
        "當局宣布全國哀悼3日,所有公共建築物降半旗致哀。"
    )
    assert [r["kind"] for r in segment_article("z", zh, 0, "zh")] == ["body", "body"]


def test_a_long_cjk_block_without_full_stop_is_no_heading_by_word_count():
    # no spaces: one "word" by whitespace, but as long as a sentence of twenty words
    zh = (
        "新聞標題\n\n第一段文字說明事情經過。\n\n"
        + "央視新聞報道今日凌晨一艘載貨櫃船從佛山開往廣州南沙途中經過洪奇瀝水道時撞到大橋橋墩造成橋體斷裂"
        + "\n\n最後一段。"
    )
    kinds = [r["kind"] for r in segment_article("z", zh, 0, "zh")]
    assert kinds == ["headline", "body", "body", "body"]


def test_a_quotation_closing_after_its_full_stop_stays_in_its_sentence():
    text = "標題\n\n民眾表示,「房子傾斜時,我趕緊把孩子們抱出來。」\n\n「請為那些受影響的人祈禱。」他說。「謝謝。」"
    rows = segment_article("z", text, 0, "zh")
    assert [r["text"] for r in rows[1:]] == [
        "民眾表示,「房子傾斜時,我趕緊把孩子們抱出來。」",
        "「請為那些受影響的人祈禱。」他說。",  # the speech tag glued to the quotation is the same sentence
        "「謝謝。」",
    ]
    assert "other" not in {r["kind"] for r in rows}


def test_a_day_written_as_an_ordinal_does_not_end_the_sentence():
    # (dev) blingfire cut 'am 14.' | 'Juli von der ...': the day belongs to the date and the sentence
    text = "Eine Rakete war am 14. Juli von der Insel gestartet. Er zählte bis 5. Dann ging er."
    got = [s["text"] for s in segment_article("a", text, 0, "de")]
    assert got == ["Eine Rakete war am 14. Juli von der Insel gestartet.", "Er zählte bis 5.", "Dann ging er."]
