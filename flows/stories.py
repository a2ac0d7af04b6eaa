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


def group_stories(article_entities: dict[str, set[str]]) -> dict[str, str]:
    """article_id -> story_id."""
    n = max(len(article_entities), 1)
    df = Counter(e for ents in article_entities.values() for e in ents)
    max_share = setting("linking", "story_entity_max_share")
    idf = {e: math.log((n + 1) / (c + 0.5)) for e, c in df.items()}
    # blocking: only pairs that share an entity rare enough to say something about the event
    index = defaultdict(list)
    for aid, ents in article_entities.items():
        for e in ents:
            if df[e] >= 2 and (n < 20 or df[e] / n <= max_share):
                index[e].append(aid)
    threshold = setting("linking", "story_min_overlap")
    comps = _Components(article_entities)
    seen = set()
    for aids in index.values():
        for i, a in enumerate(aids):
            for b in aids[i + 1:]:
                pair = (a, b) if a < b else (b, a)
                if pair in seen:
                    continue
                seen.add(pair)
                # entities no other article mentions cannot link anything: leave them out of both sides
                ea = {e for e in article_entities[a] if df[e] >= 2}
                eb = {e for e in article_entities[b] if df[e] >= 2}
                shared = sum(idf[e] for e in ea & eb)
                union = sum(idf[e] for e in ea | eb) or 1.0
                if shared / union >= threshold:
                    comps.union(a, b)
    return {aid: _id("S", comps.find(aid)) for aid in article_entities}


def cluster_claims(claims: pl.DataFrame, anchors: dict[str, set[str]]) -> pl.DataFrame:
    """Clusters of the same claim across articles, inside each story.

    `claims` needs claim_id, article_id, story_id, language; `anchors` maps claim_id to its anchors
    ('Q:EUR:100000000', 'D:year:2018-01-01', 'E:<entity_id>').
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
        cap = max(setting("linking", "claim_anchor_max_df"), int(0.01 * n))
        index = defaultdict(list)
        for cid in ids:
            for a in anchors.get(cid, ()):
                if 2 <= df[a] <= cap:
                    index[a].append(cid)
        best: dict[tuple[str, str], tuple[float, str]] = {}
        for cid in ids:
            candidates = {o for a in anchors.get(cid, ()) for o in index.get(a, ()) if article_of[o] != article_of[cid]}
            scores = Counter({o: sum(weight[a] for a in anchors[cid] & anchors[o]) for o in candidates})
            for other, score in scores.items():
                shared = anchors[cid] & anchors[other]
                if score < min_score or not any(a[0] in "QD" for a in shared) and len(shared) < 3:
                    continue  # a number or date in common, or several rare entities
                key = (cid, article_of[other])
                if key not in best or (score, other) > best[key]:
                    best[key] = (score, other)
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
