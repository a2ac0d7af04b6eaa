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


CLAIM_THRESHOLDS = [round(x, 2) for x in np.arange(0.10, 0.91, 0.05)]
CLAIM_COHESION = [0.0, 0.25, 0.34, 0.5, 0.67, 1.0]


def _logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1) -> np.ndarray:
    """Weights (last = bias) of an L2-regularised logistic regression, by Newton's method."""
    x = np.column_stack([x, np.ones(len(x))])
    w = np.zeros(x.shape[1])
    ridge = l2 * np.diag(np.r_[np.ones(len(w) - 1), 0.0])
    for _ in range(100):
        p = 1 / (1 + np.exp(-x @ w))
        step = np.linalg.solve((x * (p * (1 - p))[:, None]).T @ x + ridge, x.T @ (p - y) + ridge @ w)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _auc(score: np.ndarray, label: np.ndarray) -> float:
    order = np.argsort(score, kind="stable")
    rank = np.empty(len(score))
    rank[order] = np.arange(1, len(score) + 1)
    pos = label.sum()
    return float((rank[label].sum() - pos * (pos + 1) / 2) / (pos * (len(label) - pos)))


def clusters(warehouse: Path, corpus_dir: Path) -> None:
    """Fit the claim-pair model on the dev split, then the link threshold: cluster pair P and R on dev."""
    import polars as pl

    from flows.evaluate.score import locate, overlap
    from flows.link import stories as story_module
    from flows.link.embeddings import Embedder
    from flows.warehouse.store import Warehouse

    corpus = load(corpus_dir)
    wh = Warehouse(warehouse)
    claims = wh.query("""SELECT c.claim_id, c.article_id, c.language, c.text, c.start_char, c.end_char, a.story_id,
                                c.quantity_ids, c.date_ids
                         FROM curated.claims c JOIN curated.articles a USING (article_id)""")
    uris = dict(wh.query("SELECT source_uri, article_id FROM curated.article_sources").iter_rows())
    texts = dict(wh.query("SELECT article_id, text FROM curated.articles").iter_rows())
    by_article = {k[0]: v for k, v in claims.partition_by("article_id", as_dict=True).items()}
    refs_of: dict[str, list] = {}  # extracted claim -> the gold claims it matches: (group, cluster, ref)
    gold_pairs = {"dev": [], "test": []}  # gold claim pairs of one cluster across articles: (claim, claim)
    for split in gold_pairs:
        members = {}
        for gid, a in corpus.articles.items():
            aid = uris.get(uri_of(a.file))
            if a.split != split:
                continue
            rows = by_article.get(aid) if aid else None
            for c in a.claims:
                spans = locate(c["span"], texts[aid]) if rows is not None else []
                cover = [
                    (overlap(spans[0], (s, e)) / max(1, spans[0][1] - spans[0][0]), cid)
                    for cid, s, e in (rows.select("claim_id", "start_char", "end_char").iter_rows() if spans else ())
                ]
                best = max(cover, default=(0, None))
                cid = best[1] if best[0] >= 0.5 else None
                if cid:
                    refs_of.setdefault(cid, []).append((a.group, c.get("cluster")))
                if c.get("cluster"):
                    members.setdefault((a.group, c["cluster"]), []).append((gid, cid))
        for group in members.values():
            gold_pairs[split] += [(x[1], y[1]) for x, y in itertools.combinations(group, 2) if x[0] != y[0]]
    split_of = {uris[uri_of(a.file)]: a.split for a in corpus.articles.values() if uri_of(a.file) in uris}
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

    def same(c1: str, c2: str) -> bool:
        return any(g1[1] is not None and g1 == g2 for g1 in refs_of[c1] for g2 in refs_of[c2])

    # 1. the pair model: features of every labelled dev pair (both claims match gold claims)
    rows, labels, groups = [], [], []
    for _, part in claims.partition_by("story_id", as_dict=True).items():
        part = part.sort("claim_id")
        ids = part["claim_id"].to_list()
        feats = story_module.pair_features(
            part["article_id"].to_list(),
            part["start_char"].fill_null(0).to_list(),
            np.stack([vectors[c] for c in ids]),
            [anchors.get(c, set()) for c in ids],
        )
        for i, j in itertools.combinations(range(len(ids)), 2):
            a = part["article_id"][i]
            if a == part["article_id"][j] or split_of.get(a) != "dev" or ids[i] not in refs_of or ids[j] not in refs_of:
                continue
            rows.append([feats[f][i, j] for f in story_module.PAIR_FEATURES])
            labels.append(same(ids[i], ids[j]))
            groups.append(refs_of[ids[i]][0][0])
    x, y, groups = np.array(rows), np.array(labels), np.array(groups)
    held_out = np.zeros(len(y))
    for g in sorted(set(groups)):  # leave one group out: how the model does on a story it was not fitted on
        w = _logistic(x[groups != g], y[groups != g].astype(float))
        held_out[groups == g] = 1 / (1 + np.exp(-(x[groups == g] @ w[:-1] + w[-1])))
    w = _logistic(x, y.astype(float))
    model = {"bias": round(float(w[-1]), 3)} | {
        f: round(float(v), 3) for f, v in zip(story_module.PAIR_FEATURES, w[:-1])
    }
    auc = _auc(held_out, y)
    print(f"{len(y)} labelled dev pairs ({int(y.sum())} the same fact); leave-one-group-out AUC {auc:.3f}")
    for f, column in zip(story_module.PAIR_FEATURES, x.T):
        print(f"  {f:8s} alone: AUC {_auc(column, y):.3f}")
    print("claim_model = { " + ", ".join(f"{k} = {v}" for k, v in model.items()) + " }")

    # 2. the threshold, through the production clustering, scored like flows/evaluate/score.py
    def score(frame, split):
        cluster_of = dict(frame.select("claim_id", "cluster_id").iter_rows())
        pairs = gold_pairs[split]
        together = [
            c1 is not None and cluster_of.get(c1) is not None and cluster_of.get(c1) == cluster_of.get(c2)
            for c1, c2 in pairs
        ]
        found = sum(together)
        linked = right = 0
        matched = frame.filter(pl.col("claim_id").is_in(list(refs_of)))
        for _, part in matched.partition_by("cluster_id", as_dict=True).items():
            for c1, c2 in itertools.combinations(part["claim_id"].to_list(), 2):
                if split_of.get(part["article_id"][0]) == split:
                    linked += 1
                    right += same(c1, c2)
        return (right / linked if linked else 0.0), (found / len(pairs) if pairs else 0.0)

    print("claim_threshold, claim_cohesion: cluster pair precision / recall (dev; test for the record)")
    for threshold, cohesion in itertools.product(CLAIM_THRESHOLDS, CLAIM_COHESION):
        with overridden({"linking": {"claim_model": model, "claim_threshold": threshold, "claim_cohesion": cohesion}}):
            frame = story_module.cluster_claims(claims, vectors, anchors)
        (p, r), (tp, tr) = score(frame, "dev"), score(frame, "test")
        print(f"  {threshold:.2f} cohesion {cohesion:.2f}: dev P {p:.3f} R {r:.3f}   test P {tp:.3f} R {tr:.3f}")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "stories"
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("/tmp/evalwh/eval.duckdb")
    corpus = PROJECT_ROOT / "seeds" / "eval"
    (stories if what == "stories" else clusters)(target, corpus)
