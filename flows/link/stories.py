"""Stories and claim clusters across languages.

Stories. Articles are taken in publication order; each joins the story it fits best, or starts one
(streaming, as a news stream arrives). Fit combines three signals, the ones news-stream clustering
relies on (Miranda et al. 2018; the JSI system on the same benchmark):
  text      cosine of the article's multilingual embedding (title and lead) with the story's centroid
  entities  the IDF-weighted share of the article's canonical entities the story already holds (the
            same ids in every language), and a penalty when the article's main country is one the
            story never mentions (two earthquakes a month apart are two events)
  time      a penalty per day between the article and the story's dates, and a window beyond which a
            story is not a candidate (last year's scandal of the same firm stays apart)
Candidates are the stories inside the time window, so the cost per article stays flat as the corpus
grows. The weights and the threshold are in seeds/config.toml [linking], calibrated on the evaluation
corpus's dev split (flows/evaluate).

Claim clusters. Inside a story, claims from different articles are compared by embedding similarity
(all pairs in a small story, each claim's nearest neighbours in a large one); a shared number or date
adds evidence. A pair links when each claim is the other's best match in the other article and the
score passes the threshold; clusters grow from the strongest pairs and hold one claim per article.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl

from flows.config import setting
from flows.warehouse.tables import CLAIM_CLUSTERS, STORIES

STORY_SCHEMA = STORIES.polars
CLUSTER_SCHEMA = CLAIM_CLUSTERS.polars
PRECISION_DAYS = {"day": 0, "month": 30, "year": 364}


def _id(prefix: str, key: str) -> str:
    return prefix + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def interval(published: date | None, precision: str | None) -> tuple[date, date] | None:
    """The days a publication date may mean: one day, a month, a year; None when unknown."""
    if published is None:
        return None
    return published, published + timedelta(days=PRECISION_DAYS.get(precision or "day", 0))


def _gap(a: tuple[date, date] | None, b: tuple[date, date] | None) -> float:
    """Days between two intervals (0 when they overlap or one is unknown)."""
    if a is None or b is None:
        return 0.0
    if a[1] < b[0]:
        return float((b[0] - a[1]).days)
    if b[1] < a[0]:
        return float((a[0] - b[1]).days)
    return 0.0


@dataclass
class StoryItem:
    article_id: str
    vector: np.ndarray
    entities: Counter  # canonical entity -> mentions (outlets and continents excluded)
    countries: Counter  # the countries among them
    when: tuple[date, date] | None


@dataclass
class _Story:
    story_id: str
    total: np.ndarray
    entities: Counter = field(default_factory=Counter)
    countries: Counter = field(default_factory=Counter)
    when: tuple[date, date] | None = None

    def add(self, item: StoryItem) -> None:
        self.total = self.total + item.vector
        self.entities.update(item.entities)
        self.countries.update(item.countries)
        if item.when is not None:
            self.when = (
                item.when if self.when is None else (min(self.when[0], item.when[0]), max(self.when[1], item.when[1]))
            )


def story_score(item: StoryItem, story: _Story, idf: dict[str, float], weights: dict) -> float:
    centroid = story.total / max(float(np.linalg.norm(story.total)), 1e-12)
    score = float(item.vector @ centroid)
    weight = sum(idf.get(e, 0.0) for e in item.entities)
    if weight:
        score += weights["entity"] * sum(idf.get(e, 0.0) for e in item.entities if e in story.entities) / weight
    if item.countries and story.countries:
        # the article's main country should be among the story's main ones: 0 when it is the story's
        # most mentioned country, 1 when the story never mentions it
        main = max(item.countries, key=lambda c: (item.countries[c], c))
        score -= weights["country"] * (1 - story.countries.get(main, 0) / max(story.countries.values()))
    return score - weights["day"] * _gap(item.when, story.when)


def group_stories(items: list[StoryItem]) -> dict[str, str]:
    """article_id -> story_id, in one pass in publication order (then id): deterministic."""
    weights = {
        "entity": setting("linking", "story_entity_weight"),
        "country": setting("linking", "story_country_penalty"),
        "day": setting("linking", "story_day_penalty"),
    }
    threshold = setting("linking", "story_threshold")
    window = setting("linking", "story_window_days")
    n = max(len(items), 1)
    df = Counter(e for it in items for e in it.entities)
    idf = {
        e: math.log((n + 1) / (c + 0.5)) for e, c in df.items()
    }  # an entity only this article names counts against it too
    order = sorted(items, key=lambda it: (it.when is None, it.when[0] if it.when else date.min, it.article_id))
    active: list[_Story] = []  # dated stories still inside the window of the dated articles to come
    recent: list[_Story] = []  # every story, most recently extended last: what an undated article sees
    story_of: dict[str, str] = {}
    cap = setting("linking", "story_undated_candidates")
    for item in order:
        if item.when is not None:  # articles come in date order: a story that ended long before is done
            active = [s for s in active if s.when is None or (item.when[0] - s.when[1]).days <= window]
            candidates = active + [s for s in recent[-cap:] if s.when is None]
        else:  # no date: no time evidence either way
            candidates = recent[-cap:]
        best, best_score = None, -math.inf
        for story in candidates:
            score = story_score(item, story, idf, weights)
            if score > best_score:
                best, best_score = story, score
        if best is None or best_score < threshold:
            best = _Story(_id("S", item.article_id), np.zeros_like(item.vector))
        else:
            recent.remove(best)
        if item.when is not None and best not in active:
            active.append(best)
        recent.append(best)
        best.add(item)
        story_of[item.article_id] = best.story_id
    return story_of


# ---------------------------------------------------------------- claim clusters


def cluster_claims(claims: pl.DataFrame, vectors: dict[str, np.ndarray], anchors: dict[str, set[str]]) -> pl.DataFrame:
    """Clusters of the same claim across articles, inside each story.

    `claims` needs claim_id, article_id, story_id, language; `vectors` maps claim_id to its normalised
    embedding; `anchors` to its quantity and date anchors ('Q:EUR:1e+08', 'D:year:2018-01-01').
    """
    threshold = setting("linking", "claim_threshold")
    bonus = setting("linking", "claim_anchor_bonus")
    neighbours = setting("linking", "claim_neighbours")
    rows = []
    for (story,), part in sorted(claims.partition_by("story_id", as_dict=True).items(), key=lambda kv: str(kv[0])):
        part = part.sort("claim_id")
        ids = part["claim_id"].to_list()
        if len(set(part["article_id"])) < 2:
            continue
        article_of = dict(zip(ids, part["article_id"]))
        language_of = dict(zip(ids, part["language"]))
        matrix = np.stack([vectors[c] for c in ids])
        sims = matrix @ matrix.T
        articles = np.array([article_of[c] for c in ids])
        same = articles[:, None] == articles[None, :]
        sims = np.where(same, -np.inf, sims)
        # a number or a date in common is evidence the two state one fact; so are the same rare entities
        entity_weight = setting("linking", "claim_entity_weight")
        ent = (
            {cid: set(e) if e is not None else set() for cid, e in zip(ids, part["entity_ids"].to_list())}
            if "entity_ids" in part.columns
            else {}
        )
        df = Counter(e for es in ent.values() for e in es)
        idf = {e: math.log((len(ids) + 1) / c) for e, c in df.items()}
        for i, cid in enumerate(ids):
            mine, mine_e = anchors.get(cid, set()), ent.get(cid, set())
            if not mine and not mine_e:
                continue
            for j, other in enumerate(ids):
                if j == i or same[i, j]:
                    continue
                if mine & anchors.get(other, set()):
                    sims[i, j] += bonus
                theirs = ent.get(other, set())
                if mine_e and theirs:
                    union = sum(idf[e] for e in mine_e | theirs)
                    sims[i, j] += entity_weight * sum(idf[e] for e in mine_e & theirs) / union if union else 0.0
        # each claim's best match in each other article (its nearest neighbours in a large story)
        best: dict[tuple[int, str], tuple[float, int]] = {}
        for i in range(len(ids)):
            row = sims[i]
            candidates = np.argsort(-row)[:neighbours] if len(ids) > neighbours else range(len(ids))
            for j in candidates:
                if not np.isfinite(row[j]) or row[j] < threshold:
                    continue
                slot = (i, articles[j])
                if slot not in best or (row[j], -j) > (best[slot][0], -best[slot][1]):
                    best[slot] = (float(row[j]), int(j))
        mutual = sorted(
            {
                (score, min(i, j), max(i, j))
                for (i, _), (score, j) in best.items()
                if best.get((j, articles[i]), (None, None))[1] == i
            },
            key=lambda t: (-t[0], t[1], t[2]),
        )
        parent = list(range(len(ids)))

        def find(x, parent=parent):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        members = {i: {articles[i]} for i in range(len(ids))}
        for _, i, j in mutual:  # strongest pairs first; a cluster holds one claim per article
            ri, rj = find(i), find(j)
            if ri != rj and not members[ri] & members[rj]:
                parent[max(ri, rj)] = min(ri, rj)
                members[min(ri, rj)] = members[ri] | members[rj]
        groups = defaultdict(list)
        for i in range(len(ids)):
            groups[find(i)].append(i)
        for root, group in groups.items():
            if len(group) < 2:
                continue
            cluster = _id("C", ids[root])
            for i in group:
                cid = ids[i]
                shared = set().union(*(anchors.get(cid, set()) & anchors.get(ids[o], set()) for o in group if o != i))
                rows.append(
                    {
                        "cluster_id": cluster,
                        "claim_id": cid,
                        "article_id": article_of[cid],
                        "story_id": story,
                        "language": language_of[cid],
                        "anchors": sorted(shared),
                    }
                )
    return pl.DataFrame(rows, schema=CLUSTER_SCHEMA)
