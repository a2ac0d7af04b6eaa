"""Score extraction against the hand annotations in tests/fixtures/gold.json.

    python -m tests.scoring      prints precision / recall per language and per table

Entities: a gold surface counts as found when a mention with that exact surface exists in its article,
and as correct when its entity is the one most of its group resolved to (and no other group's). Recall
is correct / gold. Quantities: a predicted quantity matches a gold one with the same surface, unit and
value (exact to 1e-6); precision and recall over the (exhaustive) gold lists. Attribution: for each gold
claim that names its source, the claim's source must be one of the accepted names (case-insensitive;
an entity's aliases count too).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from functools import cache

import polars as pl

from flows.extract.mentions import extract_mentions
from flows.lexicon.gazetteer import fold
from flows.link.entities import resolve
from tests.conftest import ROOT
from tests.helpers import process

GOLD = ROOT / "tests" / "fixtures" / "gold.json"


@cache
def extraction():
    gold = {k: v for k, v in json.loads(GOLD.read_text()).items() if not k.startswith("_")}
    out = process([ROOT / path for path in gold])
    mentions, edges = extract_mentions(out["articles"], out["sentences"], out["claims"])
    entities, aliases, mentions, _ = resolve(mentions, edges, {})
    return gold, out, entities, aliases, mentions


def _article_ids(out) -> dict[str, tuple[str, str]]:
    """gold path -> (article_id, language)"""
    ids = {}
    for aid, uri, lang in out["articles"].select("article_id", "source_uri", "language").iter_rows():
        ids[str(uri).replace(str(ROOT) + "/", "")] = (aid, lang)
    return ids


def score() -> dict:
    gold, out, entities, aliases, mentions = extraction()
    ids = _article_ids(out)
    report: dict = {"entities": {}, "quantities": {}, "attribution": {}}

    # entities
    found_ids: dict[tuple, set] = defaultdict(set)
    for aid, surface, eid in mentions.select("article_id", "surface", "entity_id").iter_rows():
        found_ids[(aid, surface)].add(eid)
    group_votes: dict[str, Counter] = defaultdict(Counter)
    for path, g in gold.items():
        aid, _ = ids[path]
        for surface, group in g["entities"]:
            for eid in found_ids.get((aid, surface), ()):
                group_votes[group][eid] += 1
    group_id = {g: votes.most_common(1)[0][0] for g, votes in group_votes.items()}
    owners = Counter(group_id.values())
    per_lang = defaultdict(lambda: [0, 0])
    misses = []
    for path, g in gold.items():
        aid, lang = ids[path]
        for surface, group in g["entities"]:
            eid = group_id.get(group)
            ok = eid is not None and eid in found_ids.get((aid, surface), ()) and owners[eid] == 1
            per_lang[lang][0] += ok
            per_lang[lang][1] += 1
            if not ok:
                misses.append((lang, surface, group))
    report["entities"] = {lang: {"recall": c / n, "gold": n} for lang, (c, n) in sorted(per_lang.items())}
    report["entities"]["all"] = {"recall": sum(c for c, _ in per_lang.values()) / sum(n for _, n in per_lang.values())}
    report["entity_misses"] = misses

    # quantities
    q = out["quantities"]
    per_lang = defaultdict(lambda: [0, 0, 0])  # matched, predicted, gold
    q_misses = []
    for path, g in gold.items():
        aid, lang = ids[path]
        predicted = [
            (s, u, v)
            for s, u, v in q.filter(pl.col("article_id") == aid).select("surface", "unit", "value").iter_rows()
        ]
        remaining = list(predicted)
        matched = 0
        for surface, value, unit in g["quantities"]:
            hit = next(
                (
                    p
                    for p in remaining
                    if p[0] == surface and p[1] == unit and abs(p[2] - value) <= 1e-6 * max(1, abs(value))
                ),
                None,
            )
            if hit:
                remaining.remove(hit)
                matched += 1
            else:
                q_misses.append((lang, "missed", surface, value, unit))
        q_misses.extend((lang, "extra", *p) for p in remaining)
        per_lang[lang][0] += matched
        per_lang[lang][1] += len(predicted)
        per_lang[lang][2] += len(g["quantities"])

    def pr(m, p, n):
        return {"precision": m / p if p else 1.0, "recall": m / n if n else 1.0, "predicted": p, "gold": n}

    report["quantities"] = {lang: pr(*v) for lang, v in sorted(per_lang.items())}
    report["quantities"]["all"] = pr(*[sum(v[i] for v in per_lang.values()) for i in range(3)])
    report["quantity_misses"] = q_misses

    # attribution
    alias_of = defaultdict(set)
    for eid, alias in aliases.select("entity_id", "alias").iter_rows():
        alias_of[eid].add(fold(alias))
    for eid, name in entities.select("entity_id", "name").iter_rows():
        alias_of[eid].add(fold(name))
    claims = out["claims"]
    per_lang = defaultdict(lambda: [0, 0])
    a_misses = []
    for path, g in gold.items():
        aid, lang = ids[path]
        mine = claims.filter(pl.col("article_id") == aid)
        for prefix, accepted in g["attributions"]:
            row = mine.filter(pl.col("text").str.starts_with(prefix))
            source = row["source_name"][0] if row.height else None
            names = {fold(source)} if source else set()
            for al in alias_of.values():
                if names & al:
                    names |= al
            ok = bool(names & {fold(a) for a in accepted})
            per_lang[lang][0] += ok
            per_lang[lang][1] += 1
            if not ok:
                a_misses.append((lang, prefix, source))
    report["attribution"] = {lang: {"accuracy": c / n, "gold": n} for lang, (c, n) in sorted(per_lang.items())}
    report["attribution"]["all"] = {
        "accuracy": sum(c for c, _ in per_lang.values()) / sum(n for _, n in per_lang.values())
    }
    report["attribution_misses"] = a_misses
    return report


if __name__ == "__main__":
    r = score()
    for table in ("entities", "quantities", "attribution"):
        print(f"{table}:")
        for lang, m in r[table].items():
            print(
                f"  {lang:4} " + "  ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in m.items())
            )
    for key in ("entity_misses", "quantity_misses", "attribution_misses"):
        print(f"{key}: {r[key]}")
