"""The scorecard: what a published warehouse got right about an annotated corpus (flows/evaluate/gold.py).

Matching rules, defined once:
  * Gold spans are located in the article's clean text (the text every warehouse offset points into)
    by cleaning the span the way ingest cleans text, then by a whitespace-insensitive search. Overlaps
    are measured in characters, so scripts without spaces compare like any other.
  * A gold claim is found by the extracted claim that covers most of it (at least half of the gold
    span); one extracted claim (a sentence carrying two gold claims) may match both.
  * Names match when they fold (case, accents, punctuation) to the gold canonical name or to any
    surface the gold gives that entity anywhere in the corpus, or when the extracted entity's own
    aliases do. A claim's source is also right when its words are the gold's `source_span` (see
    `same_span`): a description ('laut Rettungskräften') has no canonical name to compare. A claim in
    the outlet's own voice (gold source null) is right when its source is the article's outlet — or,
    where the gold does not know the outlet either, when the pipeline marks the claim as the article's
    own voice (or as resting on the article's source line).
  * Precision counts only what the gold could have covered: citations, entities, quantities and dates
    are annotated exhaustively per article; for claim clusters and contradictions only pairs whose
    both claims match gold claims count.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations

import polars as pl

from flows.evaluate.gold import Corpus
from flows.extract.ingest import clean_text, uri_of

# unit spellings the warehouse may use for a gold unit
UNIT_ALIASES = {"t": {"t", "tonne", "ton"}, "m2": {"m2", "m²"}, "km2": {"km2", "km²"}, "%": {"%", "percent"}}
NON_LATIN = {
    "zh",
    "ja",
    "ko",
    "ar",
    "fa",
    "he",
    "ru",
    "uk",
    "el",
    "hi",
    "th",
    "ka",
    "bg",
    "sr",
    "mk",
    "be",
    "hy",
    "ur",
    "bn",
    "ta",
    "te",
    "am",
}


def fold(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[\W_]+", " ", text).strip()


def locate(span: str, text: str) -> list[tuple[int, int]]:
    """Every (start, end) of `span` in the clean `text`."""
    needle = clean_text(span)
    if not needle:
        return []
    out, start = [], text.find(needle)
    while start != -1:
        out.append((start, start + len(needle)))
        start = text.find(needle, start + 1)
    if out:
        return out
    pattern = r"\s+".join(re.escape(part) for part in needle.split())
    return [(m.start(), m.end()) for m in re.finditer(pattern, text)]


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


@dataclass
class Tally:
    hit: int = 0
    total: int = 0

    def add(self, ok: bool, n: int = 1) -> None:
        self.hit += n if ok else 0
        self.total += n

    @property
    def value(self) -> float | None:
        return self.hit / self.total if self.total else None


@dataclass
class Scores:
    """Tallies per metric and group (a language, 'all', 'non-latin')."""

    tallies: dict[str, dict[str, Tally]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Tally)))
    counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    def add(self, metric: str, languages, ok: bool, n: int = 1) -> None:
        for group in self._groups(languages):
            self.tallies[metric][group].add(ok, n)

    def count(self, name: str, languages, n: int = 1) -> None:
        for group in self._groups(languages):
            self.counts[name][group] += n

    @staticmethod
    def _groups(languages) -> set[str]:
        languages = {languages} if isinstance(languages, str) else set(languages)
        groups = {"all"} | languages
        if languages & NON_LATIN:
            groups.add("non-latin")
        return groups


def _published(wh) -> dict[str, pl.DataFrame]:
    q = wh.query
    return {
        "articles": q(
            "SELECT a.article_id, a.language, a.story_id, a.text, s.source_uri FROM curated.articles a "
            "JOIN curated.article_sources s USING (article_id)"
        ),
        "claims": q(
            "SELECT claim_id, article_id, start_char, end_char, source_name, source_entity_id, attribution, "
            "source_surface FROM curated.claims"
        ),
        "clusters": q("SELECT cluster_id, claim_id FROM curated.claim_clusters"),
        "contradictions": q("SELECT claim_id_a, claim_id_b, kind FROM curated.contradictions"),
        "citations": q("SELECT article_id, name, surface FROM curated.citations"),
        "mentions": q("SELECT article_id, entity_id, start_char, end_char FROM curated.mentions"),
        "entities": q("SELECT entity_id, name FROM curated.entities"),
        "aliases": q("SELECT entity_id, alias FROM curated.entity_aliases"),
        "quantities": q("SELECT article_id, value, unit, start_char, end_char FROM curated.quantities"),
        "dates": q("SELECT article_id, value, precision, start_char, end_char FROM curated.dates"),
        "unsourced": q("SELECT count(*) AS n FROM curated.claims WHERE source_name IS NULL OR trim(source_name) = ''"),
    }


def score(corpus: Corpus, wh, splits: set[str] | None = None) -> Scores:
    """Score the published warehouse `wh` (flows.warehouse.store.Warehouse) against `corpus`."""
    data = _published(wh)
    scores = Scores()
    arts = data["articles"]
    by_uri = {u: (aid, lang, story, text) for aid, lang, story, text, u in arts.iter_rows()}
    gold = {gid: a for gid, a in corpus.articles.items() if splits is None or a.split in splits}

    # the gold's names: canonical -> every folded way the corpus writes it
    names: dict[str, set[str]] = defaultdict(set)
    for a in corpus.articles.values():
        for e in a.entities:
            names[e["name"]] |= {fold(e["name"])} | {fold(s) for s in e["surfaces"]}
        for c in a.citations:
            names[c["name"]] |= {fold(c["name"]), fold(c["surface"])}
    entity_names = dict(data["entities"].iter_rows())
    entity_aliases = defaultdict(set)
    for eid, alias in data["aliases"].iter_rows():
        entity_aliases[eid].add(fold(alias))

    def same_name(predicted: str | None, entity_id: str | None, gold_name: str) -> bool:
        accepted = names.get(gold_name, set()) | {fold(gold_name)}
        candidates = {fold(predicted)} | ({fold(entity_names.get(entity_id))} if entity_id else set())
        if candidates & accepted - {""}:
            return True
        return bool(
            entity_id
            and entity_aliases.get(entity_id, set()) & accepted
            and fold(predicted) in entity_aliases.get(entity_id, set())
        )

    claims_by_article = defaultdict(list)
    for row in data["claims"].iter_rows(named=True):
        claims_by_article[row["article_id"]].append(row)
    cluster_of = dict((c, k) for k, c in data["clusters"].iter_rows())
    matched: dict[str, str] = {}  # "article/claim" gold ref -> extracted claim id
    gold_lang: dict[str, str] = {}
    found_entity_ids: dict[tuple[str, str], set[str]] = {}  # (gold article, canonical) -> extracted entity ids

    for gid, a in gold.items():
        lang = a.language
        scores.count("articles", lang)
        hit = by_uri.get(uri_of(a.file))
        if hit is None:  # not published (quarantined, or not read)
            scores.count("articles missing", lang)
            aid, plang, story, text = None, None, None, clean_text(a.text)
        else:
            aid, plang, story, text = hit
        scores.add("language", lang, plang == lang)

        # claims and attribution
        extracted = claims_by_article.get(aid, [])
        scores.count("claims extracted", lang, len(extracted))
        scores.count("gold claims", lang, len(a.claims))
        for c in a.claims:
            ref = f"{gid}/{c['id']}"
            gold_lang[ref] = lang
            spans = locate(c["span"], text)
            best, best_cover = None, 0.0
            for span in spans[:1]:
                for row in extracted:
                    if row["start_char"] is None:
                        continue
                    cover = overlap(span, (row["start_char"], row["end_char"])) / max(1, span[1] - span[0])
                    if cover > best_cover:
                        best, best_cover = row, cover
            found = best is not None and best_cover >= 0.5
            scores.add("claim recall", lang, found)
            if found:
                matched[ref] = best["claim_id"]
            source = c.get("source") or a.outlet
            right = found and (
                same_name(best["source_name"], best["source_entity_id"], source)
                or same_span(best["source_surface"], c.get("source_span"))
                or (
                    # the outlet's own voice in an article whose outlet nobody knows: the pipeline must say so
                    c.get("source") is None
                    and a.outlet in ("unknown", "")
                    and best["attribution"] in ("own_voice", "source_line")
                )
            )
            scores.add("attribution", lang, right)
            if found:
                scores.add("attribution (found claims)", lang, right)

        # citations (exhaustive)
        cited = data["citations"].filter(pl.col("article_id") == aid) if aid else data["citations"].head(0)
        gold_cites = {c["name"] for c in a.citations}
        for name in gold_cites:
            scores.add(
                "citation recall",
                lang,
                any(
                    same_name(n, None, name) or same_name(s, None, name)
                    for n, s in cited.select("name", "surface").iter_rows()
                ),
            )
        for n, s in cited.select("name", "surface").iter_rows():
            scores.add(
                "citation precision", lang, any(same_name(n, None, g) or same_name(s, None, g) for g in gold_cites)
            )

        # entities (exhaustive): a gold entity is found when a mention overlaps one of its surfaces
        mentions = data["mentions"].filter(pl.col("article_id") == aid) if aid else data["mentions"].head(0)
        spans_of = {}
        for e in a.entities:
            spans_of[e["name"]] = [sp for s in e["surfaces"] for sp in locate(s, text)]
        covered = [sp for spans in spans_of.values() for sp in spans]
        covered += [sp for c in a.citations for sp in locate(c["surface"], text)]
        mention_rows = list(mentions.select("entity_id", "start_char", "end_char").iter_rows())
        for e in a.entities:
            ids = {eid for eid, s, t in mention_rows if any(overlap((s, t), sp) for sp in spans_of[e["name"]])}
            scores.add("entity recall", lang, bool(ids))
            if ids:
                found_entity_ids[(gid, e["name"])] = ids
        for _eid, s, t in mention_rows:
            scores.add("entity precision", lang, any(overlap((s, t), sp) for sp in covered))

        # quantities (exhaustive)
        qs = list(
            (data["quantities"].filter(pl.col("article_id") == aid) if aid else data["quantities"].head(0))
            .select("value", "unit", "start_char", "end_char")
            .iter_rows()
        )
        gold_q = [(q, locate(q["surface"], text)) for q in a.quantities]

        def q_match(q, spans, row) -> bool:
            value, unit, s, t = row
            units = UNIT_ALIASES.get(q["unit"], {q["unit"]})
            return (
                value is not None
                and abs(value - float(q["value"])) <= 1e-6 * max(1.0, abs(float(q["value"])))
                and (unit in units)
                and any(overlap((s, t), sp) for sp in spans)
            )

        for q, spans in gold_q:
            scores.add("quantity recall", lang, any(q_match(q, spans, r) for r in qs))
        for r in qs:
            scores.add("quantity precision", lang, any(q_match(q, spans, r) for q, spans in gold_q))

        # dates (exhaustive)
        ds = list(
            (data["dates"].filter(pl.col("article_id") == aid) if aid else data["dates"].head(0))
            .select("value", "precision", "start_char", "end_char")
            .iter_rows()
        )
        gold_d = [(d, locate(d["surface"], text)) for d in a.dates]

        def d_match(d, spans, row) -> bool:
            value, precision, s, t = row
            if value is None:
                return False
            text_value = {"year": value.strftime("%Y"), "month": value.strftime("%Y-%m")}.get(
                precision, value.isoformat()
            )
            return text_value == d["value"] and any(overlap((s, t), sp) for sp in spans)

        for d, spans in gold_d:
            scores.add("date recall", lang, any(d_match(d, spans, r) for r in ds))
        for r in ds:
            scores.add("date precision", lang, any(d_match(d, spans, r) for d, spans in gold_d))

    # stories: pairs of gold articles
    story_of = {gid: (by_uri.get(uri_of(a.file)) or (None, None, None, None))[2] for gid, a in gold.items()}
    for x, y in combinations(sorted(gold), 2):
        same_gold, same_pred = gold[x].story == gold[y].story, story_of[x] is not None and story_of[x] == story_of[y]
        langs = {gold[x].language, gold[y].language}
        if same_gold:
            scores.add("story pair recall", langs, same_pred)
        if same_pred:
            scores.add("story pair precision", langs, same_gold)
    _bcubed(scores, gold, story_of)

    # claim clusters: gold pairs across articles
    refs = [f"{gid}/{c['id']}" for gid, a in gold.items() for c in a.claims]
    cluster_gold = {f"{gid}/{c['id']}": (a.group, c.get("cluster")) for gid, a in gold.items() for c in a.claims}
    for r1, r2 in combinations(refs, 2):
        if r1.split("/")[0] == r2.split("/")[0]:
            continue
        same_gold = cluster_gold[r1][1] is not None and cluster_gold[r1] == cluster_gold[r2]
        langs = {gold_lang[r1], gold_lang[r2]}
        c1, c2 = matched.get(r1), matched.get(r2)
        same_pred = (
            c1 is not None
            and c2 is not None
            and cluster_of.get(c1) is not None
            and cluster_of.get(c1) == cluster_of.get(c2)
        )
        if same_gold:
            scores.add("cluster pair recall", langs, same_pred)
            if len(langs) > 1:
                scores.add("cross-language cluster pair recall", langs, same_pred)
    # precision over the pairs the pipeline linked: two extracted claims (each matching gold claims) in
    # one cluster are right when some gold claim of one and some gold claim of the other share a cluster.
    # (Counted per pair of extracted claims, so a sentence that carries two gold claims is one link.)
    refs_of = defaultdict(list)
    for ref, cid in matched.items():
        refs_of[cid].append(ref)
    members = defaultdict(list)
    for cid, cluster in cluster_of.items():
        if refs_of.get(cid):
            members[cluster].append(cid)
    for group in members.values():
        for c1, c2 in combinations(sorted(group), 2):
            right = any(
                cluster_gold[r1][1] is not None and cluster_gold[r1] == cluster_gold[r2]
                for r1 in refs_of[c1]
                for r2 in refs_of[c2]
            )
            scores.add("cluster pair precision", {gold_lang[refs_of[c1][0]], gold_lang[refs_of[c2][0]]}, right)

    # contradictions
    gold_x = {
        frozenset((c["a"], c["b"]))
        for c in corpus.contradictions
        if corpus.articles[c["a"].split("/")[0]].id in gold and corpus.articles[c["b"].split("/")[0]].id in gold
    }
    claim_to_refs = defaultdict(set)
    for ref, cid in matched.items():
        claim_to_refs[cid].add(ref)
    for pair in gold_x:
        a_ref, b_ref = sorted(pair)
        ca, cb = matched.get(a_ref), matched.get(b_ref)
        found = (
            ca is not None
            and cb is not None
            and any({x, y} == {ca, cb} for x, y, _ in data["contradictions"].iter_rows())
        )
        scores.add("contradiction recall", {gold_lang[a_ref], gold_lang[b_ref]}, found)
    for x, y, _ in data["contradictions"].iter_rows():
        if claim_to_refs.get(x) and claim_to_refs.get(y):
            ok = any(frozenset((p, q)) in gold_x for p in claim_to_refs[x] for q in claim_to_refs[y])
            langs = {gold_lang[next(iter(claim_to_refs[x]))], gold_lang[next(iter(claim_to_refs[y]))]}
            scores.add("contradiction precision", langs, ok)

    # cross-language entity links: the same gold entity in articles of two languages, both found
    per_entity = defaultdict(list)
    for (gid, name), ids in found_entity_ids.items():
        per_entity[name].append((gid, ids))
    for items in per_entity.values():
        for (g1, i1), (g2, i2) in combinations(items, 2):
            if gold[g1].language != gold[g2].language:
                scores.add("cross-language entity link", {gold[g1].language, gold[g2].language}, bool(i1 & i2))

    scores.count("unsourced claims published", "all", int(data["unsourced"]["n"][0]))
    return scores


def same_span(predicted: str | None, gold: str | None) -> bool:
    """The words that name the source are the gold's `source_span` (folded; one may hold the other, when
    the shorter is at least half the longer: 'der Besatzung' / 'Besatzung'). A source the gold can only name
    in English ('rescuers') is found by its words in the article."""
    p, g = fold(predicted or ""), fold(gold or "")
    if not p or not g:
        return False
    short, long = sorted((p, g), key=len)
    return short in long and len(short) >= len(long) / 2


def _bcubed(scores: Scores, gold: dict, story_of: dict) -> None:
    """BCubed precision and recall of the story assignment, per article."""
    gold_members = defaultdict(set)
    pred_members = defaultdict(set)
    for gid, a in gold.items():
        gold_members[a.story].add(gid)
        pred_members[story_of[gid] or f"missing:{gid}"].add(gid)
    for gid, a in gold.items():
        pred = pred_members[story_of[gid] or f"missing:{gid}"]
        true = gold_members[a.story]
        inter = len(pred & true)
        scores.tallies["story bcubed precision"]
        for group in Scores._groups(a.language):
            p = scores.tallies["story bcubed precision"][group]
            p.hit, p.total = p.hit + inter / len(pred), p.total + 1
            r = scores.tallies["story bcubed recall"][group]
            r.hit, r.total = r.hit + inter / len(true), r.total + 1
