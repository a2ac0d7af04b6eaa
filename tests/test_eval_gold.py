"""The evaluation corpus's integrity: spans verbatim, ids unique, references resolve, coverage as promised."""

import shutil

import pytest
import yaml

from flows.evaluate.gold import GoldError, load
from flows.evaluate.score import NON_LATIN, fold, locate
from tests.conftest import ROOT

EVAL = ROOT / "seeds" / "eval"


@pytest.fixture(scope="module")
def corpus():
    return load(EVAL)


def test_every_gold_file_checks(corpus):
    assert len(corpus.articles) >= 80


def test_coverage_the_corpus_promises(corpus):
    dev_test = [a for a in corpus.articles.values() if a.split in ("dev", "test")]
    languages = {a.language for a in dev_test}
    assert len(languages) >= 12 and len(languages & NON_LATIN) >= 3
    main_stories = {
        s for s, meta in corpus.stories.items() if not meta.get("hard_negative_of") and meta["group"] != "seeds"
    }
    assert len(main_stories) >= 10
    for story in main_stories:  # each told by several outlets in several languages
        members = [a for a in dev_test if a.story == story]
        assert len({a.outlet for a in members}) >= 3 and len({a.language for a in members}) >= 3, story
    assert any(meta.get("hard_negative_of") for meta in corpus.stories.values())


def test_cluster_ids_are_shared_and_every_article_has_claims(corpus):
    for a in corpus.articles.values():
        assert a.claims, a.id
    members = {}
    for a in corpus.articles.values():
        for c in a.claims:
            if c.get("cluster"):
                members.setdefault((a.group, c["cluster"]), set()).add(a.id)
    assert sum(len(m) > 1 for m in members.values()) >= 50  # facts told by two or more articles


def test_gold_spans_are_found_in_the_clean_text(corpus):
    from flows.extract.ingest import clean_text

    missing = []
    for a in corpus.articles.values():
        text = clean_text(a.text)
        for c in a.claims:
            if not locate(c["span"], text):
                missing.append((a.id, c["id"]))
    assert not missing, missing[:10]


def test_a_span_that_is_not_verbatim_is_refused(tmp_path):
    shutil.copytree(EVAL / "gold", tmp_path / "gold")
    (tmp_path / "articles").symlink_to(EVAL / "articles")
    path = sorted((tmp_path / "gold").glob("*.yaml"))[0]
    data = yaml.safe_load(path.read_text())
    data["articles"][0]["claims"][0]["span"] += " (not in the article)"
    data["articles"][1]["id"] = data["articles"][0]["id"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(GoldError) as err:
        load(tmp_path, [path.name])
    assert "is not a verbatim substring" in str(err.value) and "appears twice" in str(err.value)


def test_matching_helpers():
    assert fold("Agence France-Presse") == fold("agence france presse")
    assert fold("Sûreté de l'État") == "surete de l etat"
    assert locate("Narges  Mohammadi", "Prize to Narges Mohammadi today") == [(9, 25)]
