"""Calibrate the linking thresholds on the dev split: `python -m flows.evaluate.calibrate stories|clusters WH`.

WAREHOUSE is one `make eval EVAL_ARGS="--keep DIR"` wrote (DIR/eval.duckdb): its published entities,
mentions and cached embeddings are reused, so a grid over the story and claim-cluster parameters costs
seconds. The grid is scored on the dev split only; the test split's score at the chosen parameters is
printed for the record, never used to choose.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

from flows.config import PROJECT_ROOT, overridden
from flows.evaluate.gold import load
from flows.extract.ingest import uri_of

STORY_GRID = {
    "story_threshold": [round(x, 3) for x in np.arange(0.80, 0.95, 0.01)],
    "story_entity_weight": [0.0, 0.05, 0.1, 0.2, 0.3],
    "story_country_penalty": [0.0, 0.02, 0.05, 0.1, 0.15, 0.2],
    "story_day_penalty": [0.0, 0.002, 0.005, 0.01, 0.02],
}


def _pair_f1(labels: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    ids = sorted(gold)
    tp = fp = fn = 0
    for a, b in itertools.combinations(ids, 2):
        same_gold, same_pred = gold[a] == gold[b], labels[a] == labels[b]
        tp += same_gold and same_pred
        fp += same_pred and not same_gold
        fn += same_gold and not same_pred
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def stories(warehouse: Path, corpus_dir: Path) -> None:
    from flows.link import stories as story_module
    from flows.link.corpus import story_items
    from flows.link.embeddings import Embedder
    from flows.warehouse.store import Warehouse

    corpus = load(corpus_dir)
    wh = Warehouse(warehouse)
    articles = wh.query("SELECT * FROM curated.articles")
    uris = dict(wh.query("SELECT source_uri, article_id FROM curated.article_sources").iter_rows())
    items, _ = story_items(
        articles,
        wh.query("SELECT * FROM curated.mentions"),
        wh.query("SELECT * FROM curated.entities"),
        Embedder(wh.read_embeddings()),
    )
    by_split = {}
    for a in corpus.articles.values():
        aid = uris.get(uri_of(a.file))
        if aid:
            by_split.setdefault(a.split, {})[aid] = a.story
    results = []
    keys = list(STORY_GRID)
    for values in itertools.product(*STORY_GRID.values()):
        params = dict(zip(keys, values))
        with overridden({"linking": params}):
            labels = story_module.group_stories(items)
        results.append((_pair_f1(labels, by_split["dev"]), params, labels))
    results.sort(key=lambda r: (-r[0][0], -r[0][1]))
    print("best on dev (pair F1, precision, recall):")
    for (f, p, r), params, _ in results[:8]:
        print(f"  F1 {f:.3f}  P {p:.3f}  R {r:.3f}  {params}")
    (f, p, r), params, labels = results[0]
    tf, tp, tr = _pair_f1(labels, by_split["test"]) if "test" in by_split else (0, 0, 0)
    print(f"test at the best dev parameters: F1 {tf:.3f}  P {tp:.3f}  R {tr:.3f}")


CLUSTER_GRID = {
    "claim_threshold": [round(x, 3) for x in np.arange(0.84, 0.99, 0.01)],
    "claim_anchor_bonus": [0.0, 0.03, 0.06],
    "claim_entity_weight": [0.0, 0.05, 0.1, 0.2],
}


def clusters(warehouse: Path, corpus_dir: Path) -> None:
    """Grid over the claim-cluster parameters: cluster pair precision and recall on dev."""
    import polars as pl

    from flows.evaluate.score import locate, overlap
    from flows.link import stories as story_module
    from flows.link.embeddings import Embedder
    from flows.warehouse.store import Warehouse

    corpus = load(corpus_dir)
    wh = Warehouse(warehouse)
    claims = wh.query("""SELECT c.claim_id, c.article_id, c.language, c.text, c.start_char, c.end_char, a.story_id,
                                c.entity_ids, c.quantity_ids, c.date_ids
                         FROM curated.claims c JOIN curated.articles a USING (article_id)""")
    uris = dict(wh.query("SELECT source_uri, article_id FROM curated.article_sources").iter_rows())
    texts = dict(wh.query("SELECT article_id, text FROM curated.articles").iter_rows())
    by_article = {k[0]: v for k, v in claims.partition_by("article_id", as_dict=True).items()}
    matched, cluster_gold, split_of = {}, {}, {}
    for gid, a in corpus.articles.items():
        aid = uris.get(uri_of(a.file))
        if aid is None:
            continue
        rows = by_article.get(aid)
        for c in a.claims:
            ref = f"{gid}/{c['id']}"
            cluster_gold[ref] = (a.group, c.get("cluster"))
            split_of[ref] = a.split
            spans = locate(c["span"], texts[aid])
            if not spans or rows is None:
                continue
            cover = [
                (overlap(spans[0], (s, e)) / max(1, spans[0][1] - spans[0][0]), cid)
                for cid, s, e in rows.select("claim_id", "start_char", "end_char").iter_rows()
            ]
            best = max(cover, default=(0, None))
            if best[0] >= 0.5:
                matched[ref] = best[1]
    q = {
        qid: f"Q:{u}:{v:g}"
        for qid, u, v in wh.query("SELECT quantity_id, unit, value FROM curated.quantities").iter_rows()
    }
    d = {
        did: f"D:{p}:{v}"
        for did, p, v in wh.query(
            "SELECT date_id, precision, value FROM curated.dates WHERE value IS NOT NULL"
        ).iter_rows()
    }
    anchors = {
        cid: {q[x] for x in qs or () if x in q} | {d[x] for x in ds or () if x in d}
        for cid, qs, ds in claims.select("claim_id", "quantity_ids", "date_ids").iter_rows()
    }
    multi = claims.group_by("story_id").agg(pl.col("article_id").n_unique().alias("n")).filter(pl.col("n") > 1)
    claims = claims.join(multi.select("story_id"), on="story_id")
    vectors = dict(zip(claims["claim_id"], Embedder(wh.read_embeddings()).vectors(claims["text"].to_list())))

    def score(frame, split):
        cluster_of = dict(frame.select("claim_id", "cluster_id").iter_rows())
        refs = [r for r in cluster_gold if split_of[r] == split]
        tp = fn = fp = 0
        for r1, r2 in itertools.combinations(refs, 2):
            if r1.split("/")[0] == r2.split("/")[0]:
                continue
            g = cluster_gold[r1][1] is not None and cluster_gold[r1] == cluster_gold[r2]
            c1, c2 = matched.get(r1), matched.get(r2)
            p = (
                c1 is not None
                and c2 is not None
                and c1 != c2
                and cluster_of.get(c1) is not None
                and cluster_of.get(c1) == cluster_of.get(c2)
            )
            tp += g and p
            fn += g and not p
            fp += p and not g
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        return prec, rec

    results = []
    keys = list(CLUSTER_GRID)
    for values in itertools.product(*CLUSTER_GRID.values()):
        with overridden({"linking": dict(zip(keys, values))}):
            frame = story_module.cluster_claims(claims, vectors, anchors)
        results.append((score(frame, "dev"), values))
    print("claim clusters on dev: the best recall at each precision level")
    for floor in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        ok = [r for r in results if r[0][0] >= floor]
        if ok:
            (p, r), values = max(ok, key=lambda x: x[0][1])
            print(f"  P >= {floor:.1f}: P {p:.3f} R {r:.3f} at {dict(zip(keys, values))}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "stories"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/evalwh/eval.duckdb")
    corpus = PROJECT_ROOT / "seeds" / "eval"
    (stories if what == "stories" else clusters)(target, corpus)
