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


@pytest.mark.parametrize(
    "language, text, surface, value, unit",
    [
        # glued, hyphenated and spaced compounds of number words and scale words
        ("it", "Il bilancio supera i cinquemila morti.", "cinquemila", 5000.0, "count"),
        ("it", "Diecimila persone sono date per disperse.", "Diecimila", 10000.0, "count"),
        ("fr", "le plus meurtrier en près de vingt-cinq ans", "vingt-cinq ans", 25.0, "year"),
        ("fr", "en présence d'une quarantaine de chefs d'État", "une quarantaine", 40.0, "count"),
        ("de", "ein Preisgeld von elf Millionen schwedischen Kronen", "elf Millionen schwedischen Kronen", 11e6, "SEK"),
        ("ru", "от двух до пяти тысяч человек погибли", "пяти тысяч", 5000.0, "count"),
        ("pt", "Duas pessoas foram resgatadas.", "Duas", 2.0, "count"),
        ("zh", "造成三十五人死亡", "三十五", 35.0, "count"),
        ("zh", "擁有千年歷史的古城", "千年", 1000.0, "year"),
        # a scale word inflected or followed by the rest of the number
        ("tr", "11 bin 300 kişinin öldüğünü açıkladı.", "11 bin 300", 11300.0, "count"),
        ("tr", "10 binden fazla kişi kayıp.", "10 binden", 10000.0, "count"),
        ("ar", "أدت إلى تشريد أكثر من 40 ألفا.", "40 ألفا", 40000.0, "count"),
        # a four-digit count is no year when a noun follows
        ("ar", "إلى 1305 قتيلا و1832 جريحا", "1832", 1832.0, "count"),
        ("de", "Die Rede. 7.000 Menschen seien verletzt worden.", "7.000", 7000.0, "count"),
        # units and time units in the forms the text writes them
        ("ru", "в 290 километрах от Бенгази", "290 километрах", 290.0, "km"),
        ("ar", "على بعد 40 كيلومترًا (25 ميلاً)", "40 كيلومترًا", 40.0, "km"),
        ("ar", "الصحافية البالغة 51 عاما", "51 عاما", 51.0, "year"),
        ("es", "menos de 30 minutos de su viaje", "30 minutos", 30.0, "minute"),
        ("ja", "30秒ほど揺れました", "30秒", 30.0, "second"),
        ("de", "traditionell 50 Jahre lang geheim gehalten", "50 Jahre", 50.0, "year"),
        ("de", "Die 17-jährigen Zwillinge verlasen die Rede.", "17-jährigen", 17.0, "year"),
        ("en", "their twin 17-year-old children", "17-year", 17.0, "year"),
        ("hi", "वे 19वीं महिला होंगी", "19वीं", 19.0, "ordinal"),
        ("ru", "Индия стала четвертой «лунной державой»", "четвертой", 4.0, "ordinal"),
        # fraction words
        ("ru", "Разрушена четверть города Дерна", "четверть", 0.25, "fraction"),
        ("tr", "kentin dörtte biri haritadan silindi", "dörtte biri", 0.25, "fraction"),
        ("it", "Si calcola che un quarto del centro abitato sia andato distrutto", "un quarto", 0.25, "fraction"),
        ("ar", "وسجل أكثر من نصف هؤلاء القتلى", "نصف", 0.5, "fraction"),
        # the first end of a range takes the second's scale and unit
        ("ru", "от двух до пяти тысяч человек погибли", "двух", 2000.0, "count"),
        ("en", "the fire broke five or six minutes later", "five", 5.0, "minute"),
        ("en", "between 2 to 3 million euros", "2", 2_000_000.0, "EUR"),
        # temperature, rain
        ("pt", "a temperatura rondava 8ºC na madrugada", "8ºC", 8.0, "°C"),
        ("en", "a record 754 liters per square meter in 24 hours", "754 liters per square meter", 754.0, "mm"),
        # Japanese ordinals after a counter, a particle between a measure word and its number
        ("ja", "月面着陸に成功 世界4カ国目", "4カ国目", 4.0, "ordinal"),
        ("ja", "マグニチュードは、6.8と推定されています。", "マグニチュードは、6.8", 6.8, "magnitude"),
        # a number written with group separators is an amount even with nothing counted after it
        ("el", "είναι μεγαλύτερος από 1.000», δήλωσε", "1.000", 1000.0, "count"),
        # a number word glued to a time unit, a function word before the unit
        ("de", "in einen dreitägigen Hungerstreik getreten", "dreitägigen", 3.0, "day"),
        ("en", "it will take three more days", "three more days", 3.0, "day"),
    ],
)
def test_spelled_inflected_and_compound_quantities(language, text, surface, value, unit):
    assert (surface, value, unit) in _quantities(text, language)


@pytest.mark.parametrize(
    "language, text, values",
    [
        ("fr", "quatre répliques de magnitudes de 5,5, 4,7, 6,3 et 5,9.", [5.5, 4.7, 6.3, 5.9]),
        ("ar", "خمس هزات ارتدادية بقوة 5.5 و4.7 و6.3 و5.9 و4.6 في", [5.5, 4.7, 6.3, 5.9, 4.6]),
        ("fa", "سه تکان به قدرت های۵.۱ ، ۴.۹ و ۴.۷ درجه ریشتر ثبت شده است", [5.1, 4.9, 4.7]),
    ],
)
def test_numbers_listed_with_a_magnitude_are_magnitudes(language, text, values):
    assert [v for _, v, unit in _quantities(text, language) if unit == "magnitude"] == values


@pytest.mark.parametrize(
    "language, text",
    [
        # times of day
        ("en", "The accident happened at around 5:30 am when a container ship hit the pier."),
        ("ru", "примерно в 15:30 модуль приземлился"),
        ("ja", "通報を受けたのは午前1時半ごろで"),
        ("zh", "今日凌晨5時30分左右"),
        ("ko", "이날 오후 6시 4분쯤 달 남극에 안착했습니다."),
        ("hi", "दोपहर 2 बजकर 35 मिनट पर प्रक्षेपित किया गया"),
        ("ru", "Около 3 часов дня связь прервалась"),
        # names in a series
        ("en", "India's Chandrayaan-3 spacecraft landed"),
        ("en", "Luna-25 crashed into the Moon"),
        ("zh", "I-695公路關閉"),
        ("ja", "探査機「チャンドラヤーン3号」"),
        ("ko", "찬드라얀 3호가 달 남극에 착륙했습니다."),
        # a number word inside another word (Hangul glues particles, not numbers)
        ("ko", "인도, 세계 첫 ‘달의 남극’ 갔다"),
        ("ko", "진입시켰지만 실패로 끝났다"),
        ("it", "a settembre"),
    ],
)
def test_times_of_day_and_names_in_a_series_are_no_quantities(language, text):
    assert [q for q in _quantities(text, language) if q[2] != "ordinal"] == []


def test_durations_are_still_durations_not_times_of_day():
    assert ("3時間", 3.0, "hour") in _quantities("救助は3時間続いた。", "ja")
    assert ("3시간", 3.0, "hour") in _quantities("3시간 동안 이어졌다.", "ko")
    assert ("24 hours", 24.0, "hour") in _quantities("754 mm in 24 hours", "en")


@pytest.mark.parametrize(
    "language, text",
    [
        ("fa", "جایزه صلح نوبل ۲۰۲۳ را بهخاطر مبارزه"),  # a year, then a particle: no count
        ("en", "He was born in 1990 in Paris."),
        ("it", "il quarto del mondo"),  # 'quarto' alone is no fraction
    ],
)
def test_no_fraction_or_count_from_years_and_ordinals(language, text):
    assert [q for q in _quantities(text, language) if q[2] in ("count", "fraction")] == []


def test_a_noun_between_a_number_and_a_time_unit_is_what_it_counts():
    assert ("5", 5.0, "count") in _quantities("killed 5 people days ago", "en")


def test_a_spelled_number_closing_a_clause_counts_what_came_before():
    assert ("two", 2.0, "count") in _quantities("Crews have managed to rescue two.", "en")
    assert _quantities("Il Sole 24 Ore scrive.", "it") == []  # digits still need something counted


def _dated(text: str, language: str, published: date, precision: str) -> list[tuple[str, str | None]]:
    return [
        (text[d["start"] : d["end"]], d["value"] and d["value"].isoformat())
        for d in dates.extract_sentence(quantities.ascii_digits(text), language, published, precision)
    ]


@pytest.mark.parametrize(
    "language, text, published, precision, expected",
    [
        # (real sentences of the dev corpus) a day without its year is the nearest one: an announced date
        # shortly after publication, not the same day a year before
        (
            "es",
            "se dirigía a Sri Lanka y debía llegar allí el 22 de abril",
            date(2024, 3, 26),
            "day",
            [("22 de abril", "2024-04-22")],
        ),
        (
            "fr",
            "rouvrira ses portes au grand public le 8 décembre",
            date(2024, 12, 7),
            "day",
            [("8 décembre", "2024-12-08")],
        ),
        (
            "de",
            "Eine Rakete mit Chandrayaan-3 war am 14. Juli gestartet",
            date(2023, 8, 23),
            "day",
            [("14. Juli", "2023-07-14")],
        ),
        # a publication known only to its month ends with that month
        ("tr", "Libya'da 10 Eylül'deki Daniel fırtınası", date(2023, 9, 1), "month", [("10 Eylül", "2023-09-10")]),
        (
            "ru",
            "«Луна-25» была запущена 11 августа с космодрома",
            date(2023, 8, 1),
            "month",
            [("11 августа", "2023-08-11")],
        ),
        ("ja", "ロシアも19日に探査機の月面着陸を試みた", date(2023, 8, 1), "month", [("19日", "2023-08-19")]),
        # numeric forms: ISO year-month, year.month.day, a date followed by a comma; digits of other scripts
        ("el", "date 2023-09 Φονικό είναι το πέρασμα", date(2023, 9, 1), "month", [("2023-09", "2023-09-01")]),
        ("ko", "SBS Biz 입력2023.08.24 07:53", date(2023, 8, 24), "day", [("2023.08.24", "2023-08-24")]),
        ("fr", "07.12.2024, Sputnik Afrique", date(2024, 12, 7), "day", [("07.12.2024", "2024-12-07")]),
        ("fa", "جایزه صلح نوبل ۲۰۲۳ را", date(2023, 10, 6), "day", [("۲۰۲۳", "2023-01-01")]),
    ],
)
def test_a_day_without_its_year_and_numeric_forms(language, text, published, precision, expected):
    assert _dated(text, language, published, precision) == expected


def test_a_forward_cue_still_takes_the_next_such_day():
    assert _dated("Die Frist läuft bis zum 15. März", "de", date(2024, 2, 20), "day") == [("15. März", "2024-03-15")]
    # and a day far after publication, with no cue, is the one before
    assert _dated("Am 15. Oktober wurde gewählt", "de", date(2024, 2, 20), "day") == [("15. Oktober", "2023-10-15")]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        # (dev sentences) relative words the calendar data lacks, listed in seeds/languages/<code>/dates.csv
        ("ro", "Catedrala Notre-Dame și-a redeschis porțile aseară, după cinci ani", [("aseară", "2024-12-07")]),
        ("fr", "je suis triste ce soir de voir brûler cette partie de nous", [("ce soir", "2024-12-08")]),
        ("en", "Tonight, I stand before you", [("Tonight", "2024-12-08")]),
        ("de", "In diesem Jahr waren 351 Kandidaten nominiert", [("In diesem Jahr", "2024-01-01")]),
        ("ar", "وتلقت لجنة نوبل في أوسلو هذا العام 305 ترشيحات", [("هذا العام", "2024-01-01")]),
    ],
)
def test_relative_words_listed_per_language(language, text, expected):
    assert _dated(text, language, date(2024, 12, 8), "day") == expected


@pytest.mark.parametrize(
    "language, text, published, precision, expected",
    [
        # (dev sentences) a month named alone is the nearest such month, before or shortly after publication
        (
            "de",
            "Das Nobelkomitee hatte Mohammadi den Preis Anfang Oktober zuerkannt",
            date(2023, 12, 10),
            "day",
            [("Oktober", "2023-10-01")],
        ),
        ("ru", "Путин заявил в июне, что вероятность успеха", date(2023, 8, 1), "month", [("в июне", "2023-06-01")]),
        ("ar", "وشهادة في حفل توزيع الجوائز في دجنبر.", date(2023, 10, 6), "day", [("في دجنبر", "2023-12-01")]),
        # after 'last', the latest one, even when the nearest is ahead
        ("en", "The law came into force last November", date(2023, 10, 1), "day", [("last November", "2022-11-01")]),
        # written in the case CLDR writes months: fr 'Mars' is the planet, en 'march' a verb, ro 'mai' 'more'
        ("fr", "la mission vers Mars a échoué", date(2023, 10, 1), "day", []),
        ("en", "Thousands march to the capital", date(2023, 10, 1), "day", []),
        ("ro", "cel mai mare port", date(2023, 10, 1), "day", []),
        # 'today' in an article known only to its month is that month
        ("el", "όπως δήλωσε σήμερα υπουργός της κυβέρνησης", date(2023, 9, 1), "month", [("σήμερα", "2023-09-01")]),
        # a weekday with the day's number is that day; one followed by its date takes the date's
        (
            "ar",
            "ضربت ليلة الأحد 10 إلى الاثنين 11 سبتمبر درنة",
            date(2023, 9, 1),
            "month",
            [("الأحد 10", "2023-09-10"), ("11 سبتمبر", "2023-09-11")],
        ),
        # ko 'last month' + a day of the month
        ("ko", "찬드라얀 3호는 앞서 지난달 14일 남부", date(2023, 8, 24), "day", [("지난달 14일", "2023-07-14")]),
        # de compounds of a weekday, rows of seeds/languages/de/dates.csv
        (
            "de",
            "Gouverneur Wes Moore am Dienstagmorgen (Ortszeit)",
            date(2024, 3, 26),
            "day",
            [("Dienstagmorgen", "2024-03-26")],
        ),
    ],
)
def test_months_alone_and_weekdays_in_context(language, text, published, precision, expected):
    assert _dated(text, language, published, precision) == expected


def test_a_weekday_in_an_article_known_to_its_month_counts_from_the_last_day_it_stated():
    # (dev) '10 Eylül' (a Sunday) then 'geçtiğimiz cuma günü': the Friday after, 15 September
    found = dates.extract_sentence("geçtiğimiz cuma günü sahilde", "tr", date(2023, 9, 1), "month", date(2023, 9, 10))
    assert [(d["value"], d["anchor"]) for d in found if d["value"]] == [(date(2023, 9, 15), "told")]
    # nothing told: no day can be named
    assert [d["value"] for d in dates.extract_sentence("cuma günü", "tr", date(2023, 9, 1), "month")] == [None]


def test_told_days_carry_across_the_sentences_of_an_article():
    import polars as pl

    articles = pl.DataFrame(
        {"article_id": ["a"], "language": ["tr"], "published": [date(2023, 9, 1)], "published_precision": ["month"]}
    )
    texts = ["Libya'da 10 Eylül'deki fırtına.", "Ekipler geçtiğimiz cuma günü sahile ulaştı."]
    sentences = pl.DataFrame(
        {
            "sentence_id": ["a-s1", "a-s0"],
            "article_id": ["a", "a"],
            "position": [1, 0],
            "text": texts[::-1],
            "start_char": [32, 0],
        }
    )
    got = dates.extract_dates(articles, sentences)
    assert sorted(zip(got["surface"], got["value"])) == [("10 Eylül", date(2023, 9, 10)), ("cuma", date(2023, 9, 15))]
