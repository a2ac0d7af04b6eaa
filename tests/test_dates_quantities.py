"""Dates and quantities in scripts and forms the seeds do not have: CJK days of the month, magnitudes."""

from datetime import date

import pytest

from flows.extract import dates, quantities

PUBLISHED = date(2024, 1, 2)  # an article of 2 January 2024


def _dates(text: str, language: str, base: date = PUBLISHED) -> list[tuple[str, str | None, str]]:
    return [
        (text[d["start"] : d["end"]], d["value"] and d["value"].isoformat(), d["precision"])
        for d in dates.extract_sentence(text, language, base)
    ]


def _quantities(text: str, language: str) -> list[tuple[str, float, str]]:
    return [
        (text[q["start"] : q["end"]], q["value"], q["unit"]) for q in quantities.extract_sentence(text, language, [])
    ]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        # a day of the month alone takes the publication's month, or the month before when it is later
        ("ja", "1日午後4時10分ごろ、石川県能登地方で地震があった。", [("1日", "2024-01-01", "day")]),
        ("ja", "前日の31日に発表された。", [("31日", "2023-12-31", "day")]),
        ("ko", "현지시간 1일 오후 4시 10분쯤 지진이 발생했습니다.", [("1일", "2024-01-01", "day")]),
        ("zh", "据报道,2日上午救援继续。", [("2日", "2024-01-02", "day")]),
        # with its month, as before
        ("zh", "10月5日公布。", [("10月5日", "2023-10-05", "day")]),
    ],
)
def test_cjk_day_of_month(language, text, expected):
    assert _dates(text, language) == expected


@pytest.mark.parametrize(
    "language, text",
    [
        ("ja", "救助活動は3日間続いた。"),  # a span of three days
        ("ko", "3일 동안 이어졌다."),
        ("zh", "3日前发生。"),  # three days before: an offset, read by the 'ago' rules if at all
    ],
)
def test_a_span_of_days_is_not_a_day_of_the_month(language, text):
    assert all(d[0] not in ("3日", "3일") for d in _dates(text, language))


def test_one_character_weekday_abbreviations_do_not_match_inside_day_numbers():
    # ko '일' and ja '日' also abbreviate Sunday: '23일' is the 23rd, not a Sunday
    assert _dates("23일 발표했다.", "ko", date(2024, 1, 24)) == [("23일", "2024-01-23", "day")]
    assert _dates("日曜日に発表した。", "ja", date(2024, 1, 24)) == [("日曜日", "2024-01-21", "day")]


@pytest.mark.parametrize(
    "language, text, surface, value",
    [
        ("en", "A magnitude 6.8 earthquake struck late on Friday.", "magnitude 6.8", 6.8),
        ("en", "a 6.8-magnitude quake", "6.8-magnitude", 6.8),
        ("en", "a quake with a magnitude of 7.6", "magnitude of 7.6", 7.6),
        ("fr", "un séisme de magnitude 6,8", "magnitude 6,8", 6.8),
        ("it", "un terremoto di magnitudo 6.8", "magnitudo 6.8", 6.8),
        ("de", "ein Beben der Stärke 6,8", "Stärke 6,8", 6.8),
        ("ru", "землетрясение магнитудой 6,8", "магнитудой 6,8", 6.8),
        ("el", "σεισμός 6,8 Ρίχτερ", "6,8 Ρίχτερ", 6.8),
        ("tr", "6,8 büyüklüğünde deprem", "6,8 büyüklüğünde", 6.8),
        ("ar", "زلزال بقوة 6.8 درجات", "بقوة 6.8", 6.8),
        ("zh", "芮氏规模7.6地震", "规模7.6", 7.6),
        ("zh", "7.6级地震", "7.6级", 7.6),
        ("ja", "マグニチュード7.6の地震", "マグニチュード7.6", 7.6),
        ("ko", "규모 7.6의 지진", "규모 7.6", 7.6),
    ],
)
def test_magnitudes(language, text, surface, value):
    assert (surface, value, "magnitude") in _quantities(text, language)


def test_a_measure_word_before_a_large_number_is_no_magnitude():
    assert all(unit != "magnitude" for _, _, unit in _quantities("eine Stärke von 5000 Soldaten", "de"))


def test_a_four_digit_count_glued_to_its_noun_is_not_a_year():
    assert ("2000", 2000.0, "count") in _quantities("地震造成至少2000人死亡。", "zh")
    assert _quantities("Im Jahr 2000 Gründung der Firma.", "de") == []


@pytest.mark.parametrize(
    "language, text, surface, value",
    [
        ("ro", "La eveniment au participat 40 de șefi de stat.", "40", 40.0),
        ("fr", "une ville de 1,9 million d’habitants", "1,9 million", 1_900_000.0),
        ("ar", "لا يزال 10100 في عداد المفقودين", "10100", 10100.0),
    ],
)
def test_a_function_word_between_a_number_and_what_it_counts(language, text, surface, value):
    assert (surface, value, "count") in _quantities(text, language)


def test_a_capitalised_word_after_a_number_is_no_link_to_a_count():
    assert _quantities("Il Sole 24 Ore scrive.", "it") == []  # 'Ore' here is part of a name
