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

Claim clusters. Inside a story, every pair of claims from different articles gets a probability of
stating the same fact from four pieces of evidence (`pair_features`: embedding cosine, its margin over
each article's other claims, position in the articles, shared numbers and dates), combined by a small
logistic model fitted on the evaluation corpus's dev split. A pair links when each claim is the
other's most probable match in the other article and the probability passes the threshold; clusters
grow from the most probable links and hold one claim per article.
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
from flows.link.unionfind import UnionFind
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


PAIR_FEATURES = ("cosine", "margin", "lead", "anchors")


def pair_features(articles: list[str], positions: list[int], vectors: np.ndarray, anchors: list[set[str]]) -> dict:
    """The evidence that two claims of one story state the same fact, as n x n matrices:

      cosine   of the two claims' embeddings
      margin   the cosine minus how similar each claim is, on average, to its `claim_margin_k` nearest
               claims in the other's article: the same fact stands out from the rest of that article,
               while a generic sentence is close to everything (the ratio/difference margin of
               cross-lingual bitext mining, Artetxe & Schwenk 2019) and some language pairs sit lower
      lead     the mean relative position of the two claims in their articles (0 = first claim):
               what many outlets report in common comes first
      anchors  numbers and dates the two claims share (same value and unit or precision)
    Pairs inside one article are NaN.
    """
    n = len(articles)
    arts = np.array(articles)
    sims = (vectors @ vectors.T).astype(np.float64)
    same = arts[:, None] == arts[None, :]
    k = setting("linking", "claim_margin_k")
    groups = {a: np.flatnonzero(arts == a) for a in dict.fromkeys(articles)}
    near = np.zeros((n, len(groups)))  # each claim's mean top-k cosine into each article
    column = {}
    for b, (article, members) in enumerate(groups.items()):
        block = sims[:, members]
        top = min(k, len(members))
        near[:, b] = -np.partition(-block, top - 1, axis=1)[:, :top].mean(axis=1)
        column[article] = b
    col = np.array([column[a] for a in articles])
    margin = sims - (near[:, col] + near[:, col].T) / 2
    rank = np.zeros(n)
    for members in groups.values():
        order = members[np.argsort(np.asarray(positions)[members], kind="stable")]
        rank[order] = np.arange(len(members)) / max(1, len(members) - 1)
    lead = (rank[:, None] + rank[None, :]) / 2
    vocabulary = {a: k for k, a in enumerate(sorted(set().union(*anchors)))}
    incidence = np.zeros((n, len(vocabulary)))
    for i, found in enumerate(anchors):
        incidence[i, [vocabulary[a] for a in found]] = 1.0
    shared = incidence @ incidence.T  # anchors each pair shares
    out = {"cosine": sims, "margin": margin, "lead": lead, "anchors": shared}
    for m in out.values():
        m[same] = np.nan
    return out


def pair_probability(features: dict) -> np.ndarray:
    """P(same fact) from the pair features: the logistic model in seeds/config.toml [linking] claim_model,
    fitted on the dev split (python -m flows.evaluate.calibrate clusters)."""
    model = setting("linking", "claim_model")
    logit = model["bias"] + sum(model[name] * features[name] for name in PAIR_FEATURES)
    return 1 / (1 + np.exp(-logit))


def cluster_claims(claims: pl.DataFrame, vectors: dict[str, np.ndarray], anchors: dict[str, set[str]]) -> pl.DataFrame:
    """Clusters of the same claim across articles, inside each story.

    `claims` needs claim_id, article_id, story_id, language, start_char; `vectors` maps claim_id to its
    normalised embedding; `anchors` to its quantity and date anchors ('Q:EUR:1e+08', 'D:year:2018-01-01').
    Two claims link when each is the other's most probable match in the other's article and the
    probability passes claim_threshold; clusters grow from the most probable links, hold one claim per
    article, and join only when at least a claim_cohesion share of their claims' pairs would link.
    """
    threshold = setting("linking", "claim_threshold")
    cohesion = setting("linking", "claim_cohesion")
    rows = []
    for (story,), part in sorted(claims.partition_by("story_id", as_dict=True).items(), key=lambda kv: str(kv[0])):
        part = part.sort("claim_id")
        ids = part["claim_id"].to_list()
        if len(set(part["article_id"])) < 2:
            continue
        article_of = dict(zip(ids, part["article_id"]))
        language_of = dict(zip(ids, part["language"]))
        articles = part["article_id"].to_list()
        features = pair_features(
            articles,
            part["start_char"].fill_null(0).to_list(),
            np.stack([vectors[c] for c in ids]),
            [anchors.get(c, set()) for c in ids],
        )
        prob = np.nan_to_num(pair_probability(features), nan=-1.0)
        arts = np.array(articles)
        # each claim's most probable match in each other article
        best: dict[tuple[int, str], int] = {}
        for article in dict.fromkeys(articles):
            members = np.flatnonzero(arts == article)
            top = members[np.argmax(prob[:, members], axis=1)]
            for i in range(len(ids)):
                if arts[i] != article:
                    best[(i, article)] = int(top[i])
        mutual = sorted(
            {
                (float(prob[i, j]), min(i, j), max(i, j))
                for (i, _), j in best.items()
                if prob[i, j] >= threshold and best[(j, arts[i])] == i
            },
            key=lambda t: (-t[0], t[1], t[2]),
        )
        components = UnionFind()
        members = {i: {arts[i]} for i in range(len(ids))}
        claims_of = {i: [i] for i in range(len(ids))}
        for _, i, j in mutual:  # most probable links first; a cluster holds one claim per article
            ri, rj = components.find(i), components.find(j)
            if ri == rj or members[ri] & members[rj]:
                continue
            # and the two clusters must hold together, not only through this one link: a chain through a
            # generic sentence would otherwise join two facts
            if (prob[np.ix_(claims_of[ri], claims_of[rj])] >= threshold).mean() < cohesion:
                continue
            root = components.union(ri, rj)
            members[root] = members[ri] | members[rj]
            claims_of[root] = claims_of[ri] + claims_of[rj]
        groups = defaultdict(list)
        for i in range(len(ids)):
            groups[components.find(i)].append(i)
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
